"""The spans per day: how many pause spans begin and end on each day, by the status their mentor
has now, kept by the database (migration 0017: triggers on pause_record INSERT a delta row for each
day a pause leaves or enters; 0018 added the mentor's status, which each pause row carries as
`status_of_mentor`), so that how many pauses overlap a window (`during`), and how many mentors of
each status are out at an instant (windows.py), is a few sums over days plus counts within the days
of its ends, whatever the number of pauses. Folded with the list totals (totals.py), under their
lock.

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
_KEPT = KeyedTotals("span_day_totals", "kind, day, status", "pauses")
STATUSES = ("active", "paused", "inactive")


def day_of(column, postgresql):
    return f"CAST({column} AS DATE)" if postgresql else f"date({column})"


def spans_select(row, postgresql, source="", by_status=True):
    """A SELECT of (kind, day, status) for each count the pause `row` is in: OLD or NEW in a
    trigger, or the alias of the table that `source` (a FROM clause) names; without `by_status`
    (migration 0017, before the status), of (kind, day)."""
    status = f", {row}.status_of_mentor AS status" if by_status else ""
    return " UNION ALL ".join(
        f"SELECT '{kind}' AS kind, {day_of(f'{row}.{column}', postgresql)} AS day{status} {source} "
        f"WHERE {rows.format(row=row)}" for kind, (column, rows) in KINDS.items())


def _before(kind, inclusive, sign):
    """SQL: (status, how many pauses of `kind` whose mentor has that status have their column
    before (`inclusive`: or at) a moment, times `sign`); its parameters are `_before_params(moment)`."""
    column, rows = KINDS[kind]
    kept = (f"SELECT status, {sign} * SUM(pauses) AS pauses FROM {{table}} WHERE kind = '{kind}' AND day < {{{{p}}}} "
            "GROUP BY status")
    return " UNION ALL ".join([
        kept.format(table="span_day_totals"), kept.format(table="span_day_totals_delta"),
        f"SELECT s.status_of_mentor, {sign} * COUNT(*) FROM pause_record s WHERE {rows.format(row='s')} "
        f"AND s.{column} >= {{p}} AND s.{column} {'<=' if inclusive else '<'} {{p}} GROUP BY s.status_of_mentor"])


def _before_params(moment):
    day = dt.datetime(moment.year, moment.month, moment.day)
    return (day.date().isoformat(), day.date().isoformat(), day, moment)


# Started before the window's end, less those ended by its start, less those back by it (returns
# after now and by its start), plus the overdue ones of no length started before its end; the
# parameters, in this order, are those of `overlapping_by_status`.
_TERMS = (("ended_start", False, 1), ("open_start", False, 1), ("ended_end", True, -1), ("open_return", True, -1),
          ("open_return", True, 1), ("open_no_span", True, 1))
_OVERLAPPING = "SELECT status, CAST(SUM(pauses) AS BIGINT) AS pauses FROM ({}) AS signed GROUP BY status".format(
    " UNION ALL ".join(_before(*term) for term in _TERMS))
# The same terms summed by branch of windows.overlaps instead: those with an end date, and the open ones.
_OVERLAPPING_BY_BRANCH = "SELECT branch, CAST(SUM(pauses) AS BIGINT) FROM ({}) AS signed GROUP BY branch".format(
    " UNION ALL ".join(f"SELECT '{kind.split('_')[0]}' AS branch, pauses FROM ({_before(kind, *rest)}) AS term{number}"
                       for number, (kind, *rest) in enumerate(_TERMS)))
# Times are kept to the microsecond at most (PostgreSQL's precision): before a moment is at or before this much earlier.
FINEST = dt.timedelta(microseconds=1)


def overlapping_statement(window, now):
    """The SQL and parameters of a SELECT of (status, how many pause records, in any state, of the
    mentors of that status, have a span that overlaps `window` as of `now`), in the database's
    parameter style."""
    return _OVERLAPPING.replace("{p}", database.obj.param), _overlapping_params(window, now)


def _overlapping_params(window, now):
    """The parameters of `_TERMS`, in their order."""
    back_by = max(window.start, now)  # the returns in (now, back_by] end their spans before the window
    return (*_before_params(window.end), *_before_params(window.end), *_before_params(window.start),
            *_before_params(back_by), *_before_params(now), *_before_params(min(now, window.end - FINEST)))


def overlapping_by_branch(window, now):
    """How many pause records have a span that overlaps `window` as of `now`, of each branch of
    `windows.overlaps` ({"ended": with an end date, "open": without}), in one statement's snapshot."""
    counts = {"ended": 0, "open": 0}
    sql = _OVERLAPPING_BY_BRANCH.replace("{p}", database.obj.param)
    for branch, count in database.obj.execute_sql(sql, _overlapping_params(window, now)).fetchall():
        counts[branch] = int(count)
    return counts


def by_status(rows):
    """{status: count} of rows of (status, count), 0 for a status without one."""
    counts = dict.fromkeys(STATUSES, 0)
    for status, count in rows:
        counts[status] += int(count)
    return counts


def overlapping_by_status(window, now):
    """How many pause records (in any state) have a span that overlaps `window` as of `now`, by the
    status of their mentor ({status: count}), in one statement's snapshot."""
    return by_status(database.obj.execute_sql(*overlapping_statement(window, now)).fetchall())


def overlapping(window, now):
    """How many pause records (in any state) have a span that overlaps `window` as of `now`."""
    return sum(overlapping_by_status(window, now).values())


def fold_within(db):
    """Within the transaction of a fold: the deltas added to their days' rows (keyed_totals.py)."""
    _KEPT.fold_within(db)


def counted(postgresql, by_status=True):
    """A SELECT of (kind, day, status, how many) counted from the pause records (without
    `by_status`, as spans_select takes it: of (kind, day, how many))."""
    key = "kind, day, status" if by_status else "kind, day"
    spans = spans_select("p", postgresql, "FROM pause_record p", by_status)
    return f"SELECT {key}, COUNT(*) FROM ({spans}) AS spans GROUP BY {key}"


def recount_within(db):
    """Within `totals.recount`'s snapshot: the status each pause carries and the mentors whose spans
    may overlap set again from the tables (what SQL run with the triggers off may have left), then
    every day's spans counted again."""
    postgresql = is_postgresql(db)
    status = mentor_status_sql("pause_record.mentor_id")
    db.execute_sql(f"UPDATE pause_record SET status_of_mentor = {status} WHERE status_of_mentor <> {status}")
    # Only the rows that differ, so that the writes going on meanwhile rarely touch the same one.
    overlapping = overlapping_mentors(postgresql)
    db.execute_sql(f"DELETE FROM mentor_overlapping_spans WHERE mentor_id NOT IN ({overlapping})")
    db.execute_sql(f"INSERT INTO mentor_overlapping_spans (mentor_id) {overlapping} ON CONFLICT DO NOTHING")
    _KEPT.recount_within(db, counted(postgresql))


# Kept beside the spans (migration 0018), for the counts of mentors out (windows.py).

STATUS_OF = "CASE WHEN {row}.paused THEN 'paused' ELSE {row}.base_status END"  # of a mentor_status row


def mentor_status_sql(mentor):
    """SQL: the status now of the mentor whose id is the SQL `mentor`, as its pauses carry it."""
    return f"(SELECT {STATUS_OF.format(row='m')} FROM mentor_status m WHERE m.mentor_id = {mentor})"


# A pause's span taken as ending at its end date, or never: those of one mentor overlap when one
# starts before the furthest end of those that start before it (or with it, by id).
_LATEST = {True: "TIMESTAMP 'infinity'", False: "'9999-12-31 23:59:59'"}


def overlapping_mentors(postgresql, mentor=None):
    """A SELECT of the mentors (of `mentor` only, an SQL expression, if given) that have two pauses
    whose spans may overlap: a pause without an end date taken to have none (its span ends at its
    expected return only until that passes), one ending at its start to have no span."""
    only = f"AND mentor_id = {mentor} " if mentor else ""
    return (f"SELECT DISTINCT mentor_id FROM (SELECT mentor_id, start_date, MAX(reach) OVER (PARTITION BY mentor_id "
            "ORDER BY start_date, id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach_before FROM "
            f"(SELECT mentor_id, id, start_date, COALESCE(end_date, {_LATEST[postgresql]}) AS reach FROM pause_record "
            f"WHERE (end_date IS NULL OR end_date > start_date) {only}) AS spans) AS ordered "
            "WHERE reach_before > start_date")
