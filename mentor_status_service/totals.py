"""The list totals: how many mentors of each status and pause records of each state there are,
kept exact by every write in its own transaction, so that a list page never counts a table."""
from collections import Counter

from .db import database, is_postgresql
from .models import ListTotals
from .prepared import PreparedByShape, PreparedQuery

NO_ROW = "list_totals has no row: run `flask --app wsgi db upgrade`"
# A paused mentor is counted once, as its active pause record.
TOTAL_OF_STATUS = {"active": "mentors_active", "inactive": "mentors_inactive", "paused": "pauses_active"}
_UNPAUSED_MENTORS_SQL = ("SELECT COUNT(*) FROM mentor_status m WHERE base_status = '{}' AND NOT EXISTS "
                         "(SELECT 1 FROM pause_record p WHERE p.mentor_id = m.mentor_id AND p.end_date IS NULL)")
COUNTS_SQL = (_UNPAUSED_MENTORS_SQL.format("active"), _UNPAUSED_MENTORS_SQL.format("inactive"),
              "SELECT COUNT(*) FROM pause_record WHERE end_date IS NULL",
              "SELECT COUNT(*) FROM pause_record WHERE end_date IS NOT NULL")


class MissingListTotals(RuntimeError):
    def __init__(self):
        super().__init__(NO_ROW)


class TotalsMoved(Counter):
    """What one write moves between the list totals; `add(moved)` records it."""

    def mentor(self, before, after):
        """A mentor's status went from `before` to `after` (None: absent)."""
        for status, step in ((before, -1), (after, 1)):
            if status in ("active", "inactive"):
                self[f"mentors_{status}"] += step

    def pause(self, before, after, count=1):
        """`count` pause records went from state `before` to `after` ("active", "ended" or None: absent)."""
        for state, step in ((before, -count), (after, count)):
            if state:
                self[f"pauses_{state}"] += step


_ADD = PreparedByShape(lambda names, *keys: ListTotals.update(
    {getattr(ListTotals, name): getattr(ListTotals, name) + delta for name, delta in zip(names, keys)}).where(
    ListTotals.id == keys[-1]), keys=lambda names: len(names) + 1)


def add(moved):
    """Apply `moved` ({column: delta}) in one statement. One row, so a write updates it in one
    statement that can never deadlock with another."""
    names = tuple(sorted(name for name, delta in moved.items() if delta))
    if names and _ADD.get(names).execute(*(moved[name] for name in names), ListTotals.ROW_ID).rowcount != 1:
        raise MissingListTotals()


_READ = PreparedQuery(lambda db, row_id: ListTotals.select().where(ListTotals.id == row_id))


def read():
    """The totals, {name: count}."""
    totals = _READ.first(ListTotals.ROW_ID)
    if totals is None:
        raise MissingListTotals()
    return {name: getattr(totals, name) for name in ListTotals.NAMES}


def sum_of(*names):
    totals = read()
    return sum(totals[name] for name in names)


def _due_before_sql(param):
    def side(condition):
        return (f"(SELECT COUNT(*) FROM (SELECT 1 FROM pause_record WHERE end_date IS NULL AND {condition} "
                f"LIMIT {param}) AS side)")

    return (f"SELECT {side(f'expected_return_date < {param}')}, {side(f'expected_return_date >= {param}')}, "
            f"{side('expected_return_date IS NULL')}, pauses_active, mentors_active, mentors_inactive "
            f"FROM list_totals WHERE id = {param}")


# How many entries of each side `due_before` reads, round after round, at most.
DUE_BOUNDS = (256, 16_384, 2**62)


def due_before(moment):
    """How many active pauses are expected back before `moment`, and the totals (a dict) read in
    the same statement. Counted along the index of active pauses by expected return date from both
    sides at once, the pauses due and the others (whose count gives the due ones as `pauses_active`
    minus it), each side read to at most a bound that grows round after round: the cost follows the
    smaller side, not the number of pauses."""
    db = database.obj
    for bound in DUE_BOUNDS:
        cursor = db.execute_sql(_due_before_sql(db.param), (moment, bound, moment, bound, bound, ListTotals.ROW_ID))
        due, later, open_ended, *totals = cursor.fetchone() or (None,) * 7
        if due is None:
            raise MissingListTotals()
        totals = dict(zip(("pauses_active", "mentors_active", "mentors_inactive"), totals))
        if due < bound:
            return due, totals
        if later < bound and open_ended < bound:
            return totals["pauses_active"] - later - open_ended, totals
    raise AssertionError("the last bound is larger than any table")


def recount(db=database):
    """Count every total again from the tables (after a restore or a bulk load by SQL), exactly,
    while writes go on; returns the totals.

    The row is locked first (SQLite's IMMEDIATE transaction locks the whole database), so the
    count runs after every write that updated it before has committed, and every write that
    comes later waits at its own update of the row, which it makes last, and adds its change to
    the recounted totals. The row is updated in place: a write never finds it missing.
    """
    counts = ", ".join(f"{name} = ({sql})" for name, sql in zip(ListTotals.NAMES, COUNTS_SQL))
    row_id = ListTotals.ROW_ID
    with db.atomic():
        if is_postgresql(db):
            # Counting a large table may outlast the timeout meant for the requests' statements.
            db.execute_sql("SET LOCAL statement_timeout = 0")
        exists = db.execute_sql(f"SELECT id FROM list_totals WHERE id = {row_id} "
                                f"{'FOR UPDATE' if db.for_update else ''}").fetchone()
        if exists:
            db.execute_sql(f"UPDATE list_totals SET {counts} WHERE id = {row_id}")
        else:
            selects = ", ".join(f"({sql})" for sql in COUNTS_SQL)
            db.execute_sql(f"INSERT INTO list_totals (id, {', '.join(ListTotals.NAMES)}) SELECT {row_id}, {selects}")
        row = db.execute_sql(f"SELECT {', '.join(ListTotals.NAMES)} FROM list_totals WHERE id = {row_id}").fetchone()
    return dict(zip(ListTotals.NAMES, row))
