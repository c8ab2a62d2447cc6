"""The returns per day: how many active pauses are expected back on each day, kept by the database
(migration 0016: triggers on pause_record INSERT a delta row for each day a pause leaves or enters),
so that how many are due before a moment is a sum over the days before it plus a count within its
own day, whatever the number of pauses. Folded with the list totals (totals.py), under their lock.
"""
import datetime as dt

from ..db import is_postgresql

# An integer on both backends (PostgreSQL's SUM of BIGINT is NUMERIC).
_SUM_BEFORE = ("CAST((SELECT COALESCE(SUM(pauses), 0) FROM return_day_totals WHERE day < {param}) + "
               "(SELECT COALESCE(SUM(pauses), 0) FROM return_day_totals_delta WHERE day < {param}) + "
               "(SELECT COUNT(*) FROM pause_record WHERE state = 'active' AND expected_return_date >= {param} "
               "AND expected_return_date < {param}) AS BIGINT)")
_UPSERT = ("INSERT INTO return_day_totals (day, pauses) SELECT day, SUM(pauses) FROM {source} GROUP BY day "
           "ON CONFLICT (day) DO UPDATE SET pauses = return_day_totals.pauses + excluded.pauses")
_FOLD_POSTGRESQL = ("WITH folded AS (DELETE FROM return_day_totals_delta RETURNING day, pauses) " +
                    _UPSERT.format(source="folded"))
# SQLite reads `ON CONFLICT` after a SELECT as an upsert only when the SELECT has a WHERE clause.
_FOLD_SQLITE = _UPSERT.format(source="return_day_totals_delta WHERE id <= ?")
_RECOUNT_DAY = {"postgresql": "CAST(expected_return_date AS DATE)", "sqlite": "date(expected_return_date)"}
_RECOUNT = ("INSERT INTO return_day_totals (day, pauses) SELECT {day}, COUNT(*) FROM pause_record "
            "WHERE state = 'active' AND expected_return_date IS NOT NULL GROUP BY {day}")


def due_before_sql(param):
    """A SQL expression: how many active pauses are expected back before a moment, in the snapshot
    of its statement; its parameters are `due_before_params(moment)`."""
    return _SUM_BEFORE.format(param=param)


def due_before_params(moment):
    day = dt.datetime(moment.year, moment.month, moment.day)
    return (day.date().isoformat(), day.date().isoformat(), day, moment)


def fold_within(db):
    """Within the transaction of a fold, which holds `list_totals`: add the deltas to their days and
    delete them; a day no pause is due on any more loses its row."""
    if is_postgresql(db):
        db.execute_sql(_FOLD_POSTGRESQL)  # one statement: what it adds is exactly what it deletes
    else:
        (top,) = db.execute_sql("SELECT MAX(id) FROM return_day_totals_delta").fetchone()
        if top is None:
            return
        db.execute_sql(_FOLD_SQLITE, (top,))
        db.execute_sql("DELETE FROM return_day_totals_delta WHERE id <= ?", (top,))
    db.execute_sql("DELETE FROM return_day_totals WHERE pauses = 0")


def recount_within(db):
    """Within `totals.recount`'s snapshot: count every day's returns again and drop the deltas."""
    db.execute_sql("DELETE FROM return_day_totals_delta")
    db.execute_sql("DELETE FROM return_day_totals")
    day = _RECOUNT_DAY["postgresql" if is_postgresql(db) else "sqlite"]
    db.execute_sql(_RECOUNT.format(day=day))
