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

from ..db import database, is_postgresql
from .models import PauseRecord

_READ = ("SELECT COALESCE((SELECT records FROM reason_totals WHERE reason = {0}), 0) + "
         "(SELECT COALESCE(SUM(records), 0) FROM reason_totals_delta WHERE reason = {0})")
_READ_ALL = ("SELECT reason, CAST(SUM(records) AS BIGINT) FROM (SELECT reason, records FROM reason_totals "
             "UNION ALL SELECT reason, records FROM reason_totals_delta) AS kept GROUP BY reason "
             "HAVING SUM(records) <> 0 ORDER BY reason")
_UPSERT = ("INSERT INTO reason_totals (reason, records) SELECT reason, SUM(records) FROM {source} GROUP BY reason "
           "ON CONFLICT (reason) DO UPDATE SET records = reason_totals.records + excluded.records")
_FOLD_POSTGRESQL = ("WITH folded AS (DELETE FROM reason_totals_delta RETURNING reason, records) " +
                    _UPSERT.format(source="folded"))
# SQLite reads `ON CONFLICT` after a SELECT as an upsert only when the SELECT has a WHERE clause.
_FOLD_SQLITE = _UPSERT.format(source="reason_totals_delta WHERE id <= ?")
_RECOUNT = ("INSERT INTO reason_totals (reason, records) SELECT reason, COUNT(*) FROM pause_record "
            "WHERE reason IS NOT NULL GROUP BY reason")


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
    """Within the transaction of a fold, which holds `list_totals` (so no other fold or recount runs):
    add the deltas to the rows of their reasons and delete them; a reason no record has any more
    loses its row."""
    if is_postgresql(db):
        db.execute_sql(_FOLD_POSTGRESQL)  # one statement: what it adds is exactly what it deletes
    else:
        # SQLite: the IMMEDIATE transaction holds the database, so nothing comes between these statements.
        (top,) = db.execute_sql("SELECT MAX(id) FROM reason_totals_delta").fetchone()
        if top is None:
            return
        db.execute_sql(_FOLD_SQLITE, (top,))
        db.execute_sql("DELETE FROM reason_totals_delta WHERE id <= ?", (top,))
    db.execute_sql("DELETE FROM reason_totals WHERE records = 0")


def recount_within(db):
    """Within `totals.recount`'s snapshot: count every reason's records again and drop the deltas
    (a write the counts missed keeps its delta, as in the list totals); returns the counts."""
    db.execute_sql("DELETE FROM reason_totals")
    db.execute_sql(_RECOUNT)
    db.execute_sql("DELETE FROM reason_totals_delta")
    return dict(db.execute_sql("SELECT reason, records FROM reason_totals ORDER BY reason").fetchall())
