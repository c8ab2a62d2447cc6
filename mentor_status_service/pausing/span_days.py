"""The spans per day: how many pause spans begin and end on each day, kept by the database
(migration 0017: triggers on pause_record INSERT a delta row for each day a pause leaves or enters),
so that how many pauses overlap a window (`during`) is a few sums over days plus counts within the
days of its ends, whatever the number of pauses. Folded with the list totals (totals.py), under
their lock.

A span overlaps `[start, end)` (windows.py) when
- it has an end date (which the CHECKs keep at or after its start) later than its start: it starts
  before `end` and does not end by `start`; so those starting before `end`, less those ending by
  `start` (each of which started before it);
- it has none: it starts before `end`, unless its expected return, later than its start, falls in
  `(now, start]` (a pause not overdue that is back by the window); so those starting before `end`,
  less those returning in that range (each of which started before `end`);
- it is of no length (an end or expected return equal to its start, which the CHECKs allow): only
  one without an end date that is overdue (its expected return, its start, not after now), which
  then has no end; so those starting before `end` and not after now.
"""
import datetime as dt

from ..db import database, is_postgresql
from .keyed_totals import KeyedTotals

KINDS = {  # kind: (the column whose day keys it, which pauses, as SQL on the row {row})
    "ended_start": ("start_date", "{row}.end_date IS NOT NULL AND {row}.end_date > {row}.start_date"),
    "ended_end": ("end_date", "{row}.end_date IS NOT NULL AND {row}.end_date > {row}.start_date"),
    "open_start": ("start_date", "{row}.end_date IS NULL AND ({row}.expected_return_date IS NULL OR "
                                 "{row}.expected_return_date > {row}.start_date)"),
    "open_return": ("expected_return_date", "{row}.end_date IS NULL AND {row}.expected_return_date > {row}.start_date"),
    "open_no_span": ("start_date", "{row}.end_date IS NULL AND {row}.expected_return_date <= {row}.start_date"),
}
_KEPT = KeyedTotals("span_day_totals", "kind, day", "pauses")


def day_of(column, postgresql):
    return f"CAST({column} AS DATE)" if postgresql else f"date({column})"


def spans_select(row, postgresql, source=""):
    """A SELECT of (kind, day) for each count the pause `row` is in: OLD or NEW in a trigger, or the
    alias of the table that `source` (a FROM clause) names."""
    return " UNION ALL ".join(
        f"SELECT '{kind}' AS kind, {day_of(f'{row}.{column}', postgresql)} AS day {source} "
        f"WHERE {rows.format(row=row)}" for kind, (column, rows) in KINDS.items())


def _before(kind, inclusive):
    """SQL: how many pauses of `kind` have their column before (`inclusive`: or at) a moment; its
    parameters are `_before_params(moment)`."""
    column, rows = KINDS[kind]
    return (f"((SELECT COALESCE(SUM(pauses), 0) FROM span_day_totals WHERE kind = '{kind}' AND day < {{p}}) + "
            f"(SELECT COALESCE(SUM(pauses), 0) FROM span_day_totals_delta WHERE kind = '{kind}' AND day < {{p}}) + "
            f"(SELECT COUNT(*) FROM pause_record s WHERE {rows.format(row='s')} AND s.{column} >= {{p}} "
            f"AND s.{column} {'<=' if inclusive else '<'} {{p}}))")


def _before_params(moment):
    day = dt.datetime(moment.year, moment.month, moment.day)
    return (day.date().isoformat(), day.date().isoformat(), day, moment)


# Started before the window's end, less those ended by its start, less those back by it (returns
# after now and by its start), plus the overdue ones of no length started before its end; the
# parameters, in this order, are those of `overlapping`.
_OVERLAPPING = "SELECT CAST({} AS BIGINT)".format(" ".join([
    _before("ended_start", False), "+", _before("open_start", False), "-", _before("ended_end", True),
    "- (", _before("open_return", True), "-", _before("open_return", True), ") +", _before("open_no_span", True)]))
# Times are kept to the microsecond at most (PostgreSQL's precision): before a moment is at or before this much earlier.
_FINEST = dt.timedelta(microseconds=1)


def overlapping(window, now):
    """How many pause records (in any state) have a span that overlaps `window` as of `now`, in
    one statement's snapshot."""
    db = database.obj
    back_by = max(window.start, now)  # the returns in (now, back_by] end their spans before the window
    params = (*_before_params(window.end), *_before_params(window.end), *_before_params(window.start),
              *_before_params(back_by), *_before_params(now), *_before_params(min(now, window.end - _FINEST)))
    return db.execute_sql(_OVERLAPPING.replace("{p}", db.param), params).fetchone()[0]


def fold_within(db):
    """Within the transaction of a fold: the deltas added to their days' rows (keyed_totals.py)."""
    _KEPT.fold_within(db)


def counted(postgresql):
    """A SELECT of (kind, day, how many) counted from the pause records."""
    return (f"SELECT kind, day, COUNT(*) FROM ({spans_select('p', postgresql, 'FROM pause_record p')}) AS spans "
            "GROUP BY kind, day")


def recount_within(db):
    """Within `totals.recount`'s snapshot: count every day's spans again."""
    _KEPT.recount_within(db, counted(is_postgresql(db)))
