"""The returns per day: how many active pauses are expected back on each day, kept by the database
(migration 0016: triggers on pause_record INSERT a delta row for each day a pause leaves or enters),
so that how many are due before a moment is a sum over the days before it plus a count within its
own day, whatever the number of pauses. Folded with the list totals (totals.py), under their lock.
"""
import datetime as dt

from ..db import is_postgresql
from .keyed_totals import KeyedTotals

# An integer on both backends (PostgreSQL's SUM of BIGINT is NUMERIC).
_SUM_BEFORE = ("CAST((SELECT COALESCE(SUM(pauses), 0) FROM return_day_totals WHERE day < {param}) + "
               "(SELECT COALESCE(SUM(pauses), 0) FROM return_day_totals_delta WHERE day < {param}) + "
               "(SELECT COUNT(*) FROM pause_record WHERE state = 'active' AND expected_return_date >= {param} "
               "AND expected_return_date < {param}) AS BIGINT)")
_KEPT = KeyedTotals("return_day_totals", "day", "pauses")
_DAY = {"postgresql": "CAST(expected_return_date AS DATE)", "sqlite": "date(expected_return_date)"}
_RECOUNT = ("SELECT {day}, COUNT(*) FROM pause_record WHERE state = 'active' AND expected_return_date IS NOT NULL "
            "GROUP BY {day}")


def due_before_sql(param):
    """A SQL expression: how many active pauses are expected back before a moment, in the snapshot
    of its statement; its parameters are `due_before_params(moment)`."""
    return _SUM_BEFORE.format(param=param)


def due_before_params(moment):
    day = dt.datetime(moment.year, moment.month, moment.day)
    return (day.date().isoformat(), day.date().isoformat(), day, moment)


def fold_within(db):
    """Within the transaction of a fold: the deltas added to their days' rows (keyed_totals.py)."""
    _KEPT.fold_within(db)


def recount_within(db):
    """Within `totals.recount`'s snapshot: count every day's returns again."""
    _KEPT.recount_within(db, _RECOUNT.format(day=_DAY["postgresql" if is_postgresql(db) else "sqlite"]))
