"""The list totals: how many mentors of each status and pause records of each state there are,
exact at every moment, so that a list page never counts a table.

No row is shared by the writes that keep them: each write INSERTs its own row of deltas into
`list_totals_delta`, in its transaction, and a read adds the deltas to the one `list_totals` row in
the same statement, so it sees each write's change whole or not at all. Every `FOLD_EVERY`-th
delta, its write also folds the deltas into `list_totals` and deletes them, unless another fold
holds that row (then the next one folds): folding is the only thing that locks `list_totals`, and
it never waits for it. The totals per reason (reason_totals.py) are kept the same way, and folded
and recounted with these, as are the active pauses' returns per day (return_days.py) and the pause
spans' starts and ends per day (span_days.py), whose deltas the database's triggers insert.
"""
from collections import Counter
from typing import NamedTuple

from peewee import OperationalError

from ..db import PreparedQuery, database, defer, is_postgresql, sqlstate, vacuum_soon
from . import reason_totals, return_days, span_days
from .models import ListTotals, ListTotalsDelta

NAMES = ListTotals.NAMES
# The counts kept per key (keyed_totals.py), folded and recounted with these.
KEPT_PER_KEY = (reason_totals, return_days, span_days)
FOLD_EVERY = 256
_REASON = "reason"  # a reason's key in TotalsMoved: (_REASON, reason)
# A paused mentor is counted once, as its active pause record.
TOTAL_OF_STATUS = {"active": "mentors_active", "inactive": "mentors_inactive", "paused": "pauses_active"}
_UNPAUSED_MENTORS_SQL = ("SELECT COUNT(*) FROM mentor_status m WHERE base_status = '{}' AND NOT EXISTS "
                         "(SELECT 1 FROM pause_record p WHERE p.mentor_id = m.mentor_id AND p.state = 'active')")
COUNTS_SQL = (_UNPAUSED_MENTORS_SQL.format("active"), _UNPAUSED_MENTORS_SQL.format("inactive"),
              "SELECT COUNT(*) FROM pause_record WHERE state = 'active'",
              "SELECT COUNT(*) FROM pause_record WHERE state = 'ended'",
              "SELECT COUNT(*) FROM pause_record WHERE state = 'scheduled'")
# The totals now: the folded row plus every delta not folded yet, as one row of NAMES.
CURRENT_TOTALS_SQL = ("SELECT " + ", ".join(f"t.{name} + COALESCE(d.{name}, 0) AS {name}" for name in NAMES) +
                      " FROM list_totals t CROSS JOIN (SELECT " + ", ".join(f"SUM({name}) AS {name}" for name in NAMES)
                      + f" FROM list_totals_delta) d WHERE t.id = {ListTotals.ROW_ID}")


class MissingListTotals(RuntimeError):
    def __init__(self):
        super().__init__("list_totals has no row: run `flask --app wsgi db upgrade`")


class TotalsMoved(Counter):
    """What one write moves between the list totals; `add(moved)` records it."""

    def mentor(self, before, after):
        """A mentor's status went from `before` to `after` (None: absent)."""
        for status, step in ((before, -1), (after, 1)):
            if status in ("active", "inactive"):
                self[f"mentors_{status}"] += step

    def pause(self, before, after, count=1):
        """`count` pause records went from state `before` to `after` (a state of PAUSE_STATES, or None: absent)."""
        for state, step in ((before, -count), (after, count)):
            if state:
                self[f"pauses_{state}"] += step

    def reason(self, before, after, count=1):
        """`count` pause records went from reason `before` to `after` (None: absent, or no reason)."""
        for reason, step in ((before, -count), (after, count)):
            if reason is not None:
                self[(_REASON, reason)] += step


_INSERT_DELTA = PreparedQuery(lambda db, *deltas: ListTotalsDelta.insert(
    {getattr(ListTotalsDelta, name): delta for name, delta in zip(NAMES, deltas)}).returning(ListTotalsDelta.id),
    keys=len(NAMES))
# On PostgreSQL, a write that moves reasons too inserts both deltas in one round trip: theirs as a CTE.
_INSERT_WITH_REASONS = ("WITH reasons AS ({reasons}) INSERT INTO list_totals_delta (" + ", ".join(NAMES) +
                        ") VALUES ({marks}) RETURNING id, (SELECT array_agg(id) FROM reasons)")


def add(moved):
    """Record `moved` (a TotalsMoved) within the write's transaction; nothing if nothing moved. The
    delta's INSERT is deferred (db/deferred.py): on PostgreSQL it travels with the change entries'."""
    deltas = [moved.get(name, 0) for name in NAMES]
    reasons = {key[1]: delta for key, delta in moved.items() if isinstance(key, tuple) and delta}
    db = database.obj

    def fold_if_due(ids):
        if any(number % FOLD_EVERY == 0 for number in ids):
            _fold(db)

    if any(deltas) and reasons and is_postgresql(db):
        reasons_sql, params = reason_totals.insert_statement(reasons, db.param)
        sql = _INSERT_WITH_REASONS.format(reasons=reasons_sql, marks=", ".join([db.param] * len(NAMES)))
        defer(db, sql, params + deltas, lambda row: fold_if_due([row[0], *row[1]]))
        return
    reason_ids = reason_totals.insert(reasons) if reasons else []
    if any(deltas):
        defer(db, *_INSERT_DELTA.statement(*deltas), lambda row: fold_if_due([row[0], *reason_ids]))
    else:
        fold_if_due(reason_ids)


def fold(db=database):
    """Add the deltas to `list_totals` (and the reasons' to `reason_totals`) and delete them, in a
    transaction of its own."""
    db = getattr(db, "obj", db)
    with db.atomic():
        _fold(db)


_FOLD_POSTGRESQL = (f"WITH folded AS (DELETE FROM list_totals_delta RETURNING {', '.join(NAMES)}) "
                    f"UPDATE list_totals SET ({', '.join(NAMES)}) = (SELECT "
                    + ", ".join(f"list_totals.{name} + COALESCE(SUM({name}), 0)" for name in NAMES)
                    + f" FROM folded) WHERE id = {ListTotals.ROW_ID}")


def _fold(db):
    """Within a transaction: fold the deltas in, unless another fold holds the row (a write never waits here)."""
    if is_postgresql(db):
        held = db.execute_sql(f"SELECT id FROM list_totals WHERE id = {ListTotals.ROW_ID} "
                              "FOR UPDATE SKIP LOCKED").fetchone()
        if held is not None:
            db.execute_sql(_FOLD_POSTGRESQL)  # one statement: what it adds is exactly what it deletes
            vacuum_soon(db, ("list_totals", "list_totals_delta"))
            _fold_kept_per_key(db)
        return
    # SQLite: the IMMEDIATE transaction holds the database, so nothing comes between these statements.
    sums = ", ".join(f"COALESCE(SUM({name}), 0)" for name in NAMES)
    row = db.execute_sql(f"SELECT MAX(id), {sums} FROM list_totals_delta").fetchone()
    if row[0] is not None:
        db.execute_sql("UPDATE list_totals SET " + ", ".join(f"{name} = {name} + ?" for name in NAMES) +
                       f" WHERE id = {ListTotals.ROW_ID}", row[1:])
        db.execute_sql("DELETE FROM list_totals_delta WHERE id <= ?", (row[0],))
    _fold_kept_per_key(db)


def _fold_kept_per_key(db):
    for kept in KEPT_PER_KEY:
        kept.fold_within(db)


def read():
    """The totals now, {name: count}."""
    row = database.obj.execute_sql(CURRENT_TOTALS_SQL).fetchone()
    if row is None:
        raise MissingListTotals()
    return dict(zip(NAMES, row))


def sum_of(*names):
    totals = read()
    return sum(totals[name] for name in names)


def sum_sql(names):
    """The sum of the totals `names` now, as `sum_of` reads it, as a scalar subquery (NULL without
    the totals' row): for a list page that reads its total in its own statement."""
    return ("(SELECT " + " + ".join(f"t.{name} + COALESCE(d.{name}, 0)" for name in names) +
            " FROM list_totals t CROSS JOIN (SELECT " + ", ".join(f"SUM({name}) AS {name}" for name in names) +
            f" FROM list_totals_delta) d WHERE t.id = {ListTotals.ROW_ID})")


_DUE_BEFORE_SQL = ("SELECT {due}, pauses_active, mentors_active, mentors_inactive FROM (" + CURRENT_TOTALS_SQL +
                   ") AS totals")


def due_before(moment):
    """How many active pauses are expected back before `moment`, and the totals (a dict) read in
    the same statement: from the returns kept per day (return_days.py), a sum over the days before
    the moment's and a count within its day, whatever the number of pauses."""
    db = database.obj
    row = db.execute_sql(_DUE_BEFORE_SQL.format(due=return_days.due_before_sql(db.param)),
                         return_days.due_before_params(moment)).fetchone()
    if row is None:
        raise MissingListTotals()
    return row[0], dict(zip(("pauses_active", "mentors_active", "mentors_inactive"), row[1:]))


class Recounted(NamedTuple):
    lists: dict  # {name: count} of NAMES
    reasons: dict  # {reason: count}


def recount(db=database):
    """Count every total again from the tables (after a restore or a bulk load by SQL), exactly,
    while writes go on, the totals per reason too; returns them (a Recounted).

    The counts and the deltas deleted are read in one snapshot (PostgreSQL's REPEATABLE READ;
    SQLite's IMMEDIATE transaction holds the whole database), in which each write is seen whole,
    its rows and its delta, or not at all: a write the counts missed keeps its delta, which then
    adds to them. Holding `list_totals` keeps folds out meanwhile.
    """
    db = getattr(db, "obj", db)
    counts = ", ".join(f"{name} = ({sql})" for name, sql in zip(NAMES, COUNTS_SQL))
    row_id = ListTotals.ROW_ID
    for attempt in range(5):
        try:
            with db.atomic():
                if is_postgresql(db):
                    # A fold that commits after this snapshot makes the row's lock fail (40001): try again.
                    # Counting a large table may outlast the timeout meant for the requests' statements.
                    db.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; SET LOCAL statement_timeout = 0")
                exists = db.execute_sql(f"SELECT id FROM list_totals WHERE id = {row_id} "
                                        f"{'FOR UPDATE' if db.for_update else ''}").fetchone()
                if exists:
                    db.execute_sql(f"UPDATE list_totals SET {counts} WHERE id = {row_id}")
                else:
                    selects = ", ".join(f"({sql})" for sql in COUNTS_SQL)
                    db.execute_sql(f"INSERT INTO list_totals (id, {', '.join(NAMES)}) SELECT {row_id}, {selects}")
                db.execute_sql("DELETE FROM list_totals_delta")
                row = db.execute_sql(f"SELECT {', '.join(NAMES)} FROM list_totals WHERE id = {row_id}").fetchone()
                reasons, *_ = [kept.recount_within(db) for kept in KEPT_PER_KEY]
            return Recounted(dict(zip(NAMES, row)), reasons)
        except OperationalError as error:
            if attempt == 4 or sqlstate(error) != "40001":
                raise
    raise AssertionError("unreachable")
