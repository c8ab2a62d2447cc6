"""Sorted lists read a page at a time by keyset: a sort, the statements (branches) that read it, and
the page assembled from them with the position after its last row. queries.py and
pause_record_lists.py give the statements."""
from typing import NamedTuple

from peewee import SQL, Tuple

from ..db import is_postgresql
from . import cursors


class ListSort(NamedTuple):
    """A list's order: by `key`, descending or not; ties by the list's default key in the same
    direction; null values after every other value in both directions."""

    key: str
    descending: bool = False

    @classmethod
    def parse(cls, text, default):
        if not text:
            return cls(default)
        return cls(text[1:], True) if text.startswith("-") else cls(text)

    def __str__(self):
        return f"-{self.key}" if self.descending else self.key


class SortPlan(NamedTuple):
    """One statement of a sorted list: its rows whose sort value is null (`nulls`) or the others,
    from the start or `after` a position (True), or only those with the position's value past its
    tie key (SAME_VALUE), or only those past its value (PAST_VALUE)."""

    sort: ListSort
    nulls: bool
    after: bool | str


SAME_VALUE, PAST_VALUE = "same value", "past value"


def keyset(query, plan, key, tie_column, value, tie, null_condition=None):
    """`query` restricted to one branch of `plan` and ordered by it: the rows whose `key` is null
    (`null_condition` says so where given; ordered by `tie_column` alone) or the others (by `key`,
    then `tie_column`), each after the position (`value`, `tie`) when the plan has one. `key`
    None: the list's default order."""
    descending = plan.sort.descending
    if key is None or plan.nulls:
        if key is not None:
            query = query.where(key.is_null() if null_condition is None else null_condition)
        if plan.after:
            query = query.where(tie_column < tie if descending else tie_column > tie)
        return query.order_by(tie_column.desc() if descending else tie_column)
    query = query.where(key.is_null(False))
    if plan.after == SAME_VALUE:
        query = query.where((key == value) & (tie_column < tie if descending else tie_column > tie))
    elif plan.after == PAST_VALUE:
        query = query.where(key < value if descending else key > value)
    elif plan.after:
        # A row value comparison: PostgreSQL reads an index on (key, tie) from just past the position.
        position = Tuple(value, tie)
        query = query.where(Tuple(key, tie_column) < position if descending else Tuple(key, tie_column) > position)
    return query.order_by(*((key.desc(), tie_column.desc()) if descending else (key, tie_column)))


def keyset_page(run, count_values, sort, nullable, key_index, after, limit, offset, decode=None):
    """Up to `limit` rows in the order of `sort` (after the Position `after`, or from `offset`),
    read by `run(plan, value, tie, count, offset)`: the rows with a sort value first, then, for a
    `nullable` key, those without; and the Position after the last row when another follows.
    `decode(row)`: the row's keys as a row of the list holds them, for rows that hold them
    otherwise (copy_pages.py)."""
    default = key_index == 0  # the sort key is the tie key
    _check_position(after, default, nullable)
    wanted = limit + 1  # one more tells whether a row follows
    rows = []
    if after is None:
        rows = run(SortPlan(sort, False, False), None, None, wanted, offset)
    elif not after.nulls and (default or is_postgresql()):
        rows = run(SortPlan(sort, False, True), after.value, after.tie, wanted, 0)
    elif not after.nulls:
        # SQLite bounds an index scan by a row value's first column only: within a run of equal
        # values it would read from the run's start. The rest of the run, then what lies past it,
        # are each one bounded range.
        rows = run(SortPlan(sort, False, SAME_VALUE), after.value, after.tie, wanted, 0)
        if len(rows) < wanted:
            rows += run(SortPlan(sort, False, PAST_VALUE), after.value, None, wanted - len(rows), 0)
    if nullable and len(rows) < wanted:
        skip = 0
        if after is None and offset and not rows:
            skip = max(0, offset - count_values(SortPlan(sort, False, False)))
        plan = SortPlan(sort, True, after is not None and after.nulls)
        rows += run(plan, None, after.tie if plan.after else None, wanted - len(rows), skip)
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1] if decode is None else decode(rows[-1])
    value = None if default else last[key_index]
    return rows, cursors.Position(not default and value is None, value, last[0])


def _check_position(after, default, nullable):
    """A position of this sort: a value unless the sort is the default one, or null for a nullable key."""
    if after is None:
        return
    if default and (after.nulls or after.value is not None):
        raise cursors.InvalidCursor()
    if not default and (after.value is None) != after.nulls or after.nulls and not nullable:
        raise cursors.InvalidCursor()


def merged_halves(model, halves, order, descending, limit, offset):
    """The rows `offset` to `offset + limit` of two statements of `model` read as one list: the
    first `limit + offset` rows of each (each along its own index), merged with UNION ALL and
    ordered by the columns named `order`, in the direction of `descending`."""
    firsts = [model.select(SQL("*")).from_(half.limit(limit + offset).alias(f"half{number}"))
              for number, half in enumerate(halves)]
    columns = [SQL(f'"both"."{name}"') for name in order]
    return model.select(SQL("*")).from_((firsts[0] + firsts[1]).alias("both")).order_by(
        *(column.desc() for column in columns) if descending else columns).limit(limit).offset(offset)
