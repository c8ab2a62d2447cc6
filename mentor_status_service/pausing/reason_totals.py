"""The totals per reason: how many pause records have each reason, exact at every moment, so that
the pause-record list filtered by `reason` never counts the reason's records.

Kept as the list totals are (totals.py), with a row per reason since a reason is an open-ended
code: a write INSERTs a delta row for each reason it moves (`TotalsMoved.reason`), in its
transaction, and never touches a row another write needs; a read adds a reason's deltas to its
row in one statement, so it sees each write whole or not at all. The deltas are folded in by the
fold of the list totals, under the same lock, and `totals.recount` counts them again. Records
without a reason are not counted: no list filters on them.
"""
from peewee import SQL, fn

from ..db import database
from .keyed_totals import KeyedTotals
from .models import PauseRecord

_READ = ("SELECT COALESCE((SELECT records FROM reason_totals WHERE reason = {0}), 0) + "
         "(SELECT COALESCE(SUM(records), 0) FROM reason_totals_delta WHERE reason = {0})")
_READ_ALL = ("SELECT reason, CAST(SUM(records) AS BIGINT) FROM (SELECT reason, records FROM reason_totals "
             "UNION ALL SELECT reason, records FROM reason_totals_delta) AS kept GROUP BY reason "
             "HAVING SUM(records) <> 0 ORDER BY reason")
_KEPT = KeyedTotals("reason_totals", "reason", "records")
_RECOUNT = "SELECT reason, COUNT(*) FROM pause_record WHERE reason IS NOT NULL GROUP BY reason"


def read(reason):
    """How many pause records have `reason` now."""
    db = database.obj
    return db.execute_sql(_READ.format(db.param), (reason, reason)).fetchone()[0]


def read_all(db=database):
    """{reason: how many pause records have it now}, every reason that some record has."""
    db = getattr(db, "obj", db)
    return dict(db.execute_sql(_READ_ALL).fetchall())


def of_mentor(mentor_id):
    """(reason, how many) of a mentor's pause records that have one."""
    return PauseRecord.select(PauseRecord.reason, fn.COUNT(SQL("*"))).where(
        (PauseRecord.mentor == mentor_id) & PauseRecord.reason.is_null(False)).group_by(PauseRecord.reason).tuples()


def insert_statement(moves, param):
    """The INSERT ... RETURNING id of a delta row for each of `moves` ({reason: records}, none zero),
    and its parameters."""
    rows = ", ".join([f"({param}, {param})"] * len(moves))
    return (f"INSERT INTO reason_totals_delta (reason, records) VALUES {rows} RETURNING id",
            [value for move in sorted(moves.items()) for value in move])


def insert(moves):
    """Within the write's transaction: a delta row for each of `moves`; returns their ids."""
    db = database.obj
    return [number for (number,) in db.execute_sql(*insert_statement(moves, db.param)).fetchall()]


def fold_within(db):
    """Within the transaction of a fold: the deltas added to their reasons' rows (keyed_totals.py)."""
    _KEPT.fold_within(db)


def recount_within(db):
    """Within `totals.recount`'s snapshot: count every reason's records again; returns the counts."""
    return _KEPT.recount_within(db, _RECOUNT)
