"""The list of pause records: the statements of each filter (`during` among them, windows.py) and
sort, and the exact totals, read by keyset (keyset.py) as queries.py reads the mentors' list. Rows
come back as the driver's tuples of `lookups.PAUSE_RECORD_COLUMNS` (or `lookups.CALENDAR_COLUMNS`, or
copied, as CSV lines: copy_pages.py). Then the pause records due by moment."""
from typing import NamedTuple

from peewee import SQL, fn

from ..db import PreparedByShape, PreparedQuery
from . import copy_pages, reason_totals, span_days, totals, windows
from .keyset import ListSort, keyset, keyset_page, merged_halves
from .lookups import CALENDAR_COLUMNS, PAUSE_RECORD_COLUMNS, in_state
from .models import PAUSE_RECORD_SORT_KEYS, PAUSE_STATES, PauseRecord
from .rendering import PAUSE_RECORD

PAUSE_RECORD_DEFAULT_SORT = ListSort("pause_record_id")
_PAUSE_RECORD_SORT_COLUMNS = {"pause_record_id": None, "start_date": PauseRecord.start_date,
                              "expected_return_date": PauseRecord.expected_return_date,
                              "end_date": PauseRecord.end_date, "created_at": PauseRecord.created_at}
PAUSE_RECORD_NULLABLE_SORT_KEYS = {"expected_return_date", "end_date"}
_PAUSE_RECORD_ROW_INDEX = {"pause_record_id": 0, "start_date": 2, "expected_return_date": 3, "end_date": 4,
                           "created_at": 6}  # in PAUSE_RECORD_COLUMNS


assert set(PAUSE_RECORD_SORT_KEYS) == set(_PAUSE_RECORD_ROW_INDEX) == set(_PAUSE_RECORD_SORT_COLUMNS)


def pause_records(mentor_id=None, is_active=None, reason=None, during=None, now=None, columns=(), branch=None,
                  state=None):
    """Pause records in sequence order, filtered by whatever is given (`during`: a window, whose
    overlap with each span is judged as of `now`; with `branch` "ended" or "open", only the pauses
    of that branch of the overlap, windows.py)."""
    query = PauseRecord.select(*columns).order_by(PauseRecord.id)
    if mentor_id is not None:
        query = query.where(PauseRecord.mentor == mentor_id)
    if is_active is not None:
        query = query.where(in_state(PauseRecord, "active") if is_active else PauseRecord.state != SQL("'active'"))
    if state is not None:
        query = query.where(in_state(PauseRecord, state))
    if reason is not None:
        query = query.where(PauseRecord.reason == reason)
    if during is not None:
        query = query.where(windows.overlaps(PauseRecord, *during, now) if branch is None else
                            windows.overlaps_ended(PauseRecord, *during) if branch == "ended" else
                            windows.overlaps_open(PauseRecord, *during, now))
    return query


class PauseRecordListShape(NamedTuple):
    """Which filters a pause-record list has, as far as its SQL depends on them."""

    mentor: bool
    is_active: bool | None
    reason: bool
    during: bool
    state: str | None = None
    branches: tuple = ("ended", "open")  # of the overlap, with a window: those the page reads

    @classmethod
    def of(cls, mentor_id=None, is_active=None, reason=None, during=None, state=None):
        return cls(mentor_id is not None, is_active, reason is not None, during is not None, state)

    def listing(self, mentor_id, reason, window_start, window_end, now, columns, branch=None):
        return pause_records(mentor_id if self.mentor else None, self.is_active, reason if self.reason else None,
                             windows.Window(window_start, window_end) if self.during else None, now, columns, branch,
                             state=self.state)

    def rows(self, plan, keys, value, tie, columns=None, branch=None):
        """`columns`: "calendar" (CALENDAR_COLUMNS), "copied" (copy_pages.py), or PAUSE_RECORD_COLUMNS."""
        key = _PAUSE_RECORD_SORT_COLUMNS[plan.sort.key]
        selected = CALENDAR_COLUMNS if columns == "calendar" else copy_pages.columns(
            PAUSE_RECORD, PauseRecord.id, key) if columns == "copied" else PAUSE_RECORD_COLUMNS
        return keyset(self.listing(*keys, selected, branch), plan, key, PauseRecord.id, value, tie)

    def page(self, plan, keys, value, tie, limit, offset, columns=None):
        if not self.during:
            return self.rows(plan, keys, value, tie, columns).limit(limit).offset(offset)
        # Each branch of the overlap along an index of its own (migration 0013), its first rows merged
        # in the sort's order: in one walk of the sort's index the database would read every pause of
        # the other branch met before the page's rows (sorted by start, every ended pause of the past
        # before the active ones).
        if len(self.branches) == 1:  # the other is empty: its index is not read at all
            return self.rows(plan, keys, value, tie, columns, self.branches[0]).limit(limit).offset(offset)
        halves = [self.rows(plan, keys, value, tie, columns, branch) for branch in self.branches]
        key = "id" if plan.sort.key == "pause_record_id" or plan.nulls else plan.sort.key
        return merged_halves(PauseRecord, halves, dict.fromkeys((key, "id")), plan.sort.descending, limit, offset)


# The keys of a pause-record list's statements: mentor_id, reason, window start and end, now; a page's
# also a position (value, tie), its LIMIT and OFFSET. LIMIT and OFFSET are written into a statement
# that takes nothing else, so that it is planned once (sql_cache.py); a reason may be any of many.
_PAUSE_RECORD_KEYS = 5
_PAGE_LITERALS = (_PAUSE_RECORD_KEYS + 2, _PAUSE_RECORD_KEYS + 3)
_PAUSE_RECORD_PAGES = PreparedByShape(lambda spec, *keys: spec[0].page(  # spec: shape, plan, columns
    spec[1], keys[:_PAUSE_RECORD_KEYS], *keys[_PAUSE_RECORD_KEYS:], spec[2]), keys=_PAUSE_RECORD_KEYS + 4,
    literal_keys=_PAGE_LITERALS)
_PAUSE_RECORD_BRANCH_COUNTS = PreparedByShape(lambda spec, *keys: spec[0].rows(
    spec[1], keys, None, None).order_by().select_from(fn.COUNT(SQL("*"))), keys=_PAUSE_RECORD_KEYS)
# By (shape, branch): with a window, each branch of the overlap is counted apart, along its own index.
_PAUSE_RECORD_TOTALS = PreparedByShape(lambda spec, *keys: spec[0].listing(
    *keys, (fn.COUNT(SQL("*")),), spec[1]).order_by(), keys=_PAUSE_RECORD_KEYS)


def pause_record_page(limit, sort=PAUSE_RECORD_DEFAULT_SORT, page=1, after=None, with_total=True, now=None,
                      calendar=False, mentor_id=None, is_active=None, reason=None, during=None, state=None,
                      copied=False):
    """A page of `pause_records(...)` in the order of `sort`, as rows of `PAUSE_RECORD_COLUMNS`
    (`CALENDAR_COLUMNS` with `calendar`; CSV lines, `copied`: copy_pages.py), the exact total and
    the position after the page's last row, as `mentor_page` gives them. The total is read from
    the list totals when at most is_active and state filter the list, from what is kept per reason
    or per day when `reason` or `during` does alone, else counted. `during` (a windows.Window) is
    judged as of `now`."""
    shape = PauseRecordListShape.of(mentor_id, is_active, reason, during, state)
    keys = (mentor_id, reason, *(during or (None, None)), now)
    total = None
    if with_total and not (shape.mentor or shape.reason or shape.during):
        states = {each for each in PAUSE_STATES if (state is None or each == state) and (
            is_active is None or (each == "active") == is_active)}
        total = totals.sum_of(*(f"pauses_{each}" for each in states))
    elif with_total and shape == PauseRecordListShape.of(reason=reason):
        total = reason_totals.read(reason)
    elif with_total and shape == PauseRecordListShape.of(during=during):
        # Counted by branch, exactly: a branch that holds none is not read. Its rows would be walked
        # in the sort's order, which the planner takes when it misjudges how many overlap (it reads
        # start and end as unrelated: docs/benchmarks.md, "Every combination after 350,000 writes").
        counts = span_days.overlapping_by_branch(during, now)
        total = sum(counts.values())
        if total and not all(counts.values()):
            shape = shape._replace(branches=tuple(branch for branch, count in counts.items() if count))
    elif with_total:
        branches = ("ended", "open") if shape.during else (None,)
        total = sum(_PAUSE_RECORD_TOTALS.get((shape, branch)).rows(*keys)[0][0] for branch in branches)
    if after is None and total is not None and (page - 1) * limit >= total:
        return [], total, None

    def run(plan, value, tie, count, offset):
        prepared = _PAUSE_RECORD_PAGES.get((shape, plan, "calendar" if calendar else "copied" if copied else None))
        if copied:
            return copy_pages.read(prepared, (*keys, value, tie, count, offset), sort.key != "pause_record_id")
        return prepared.rows(*keys, value, tie, count, offset)

    def count_values(plan):
        return _PAUSE_RECORD_BRANCH_COUNTS.get((shape, plan)).rows(*keys)[0][0]

    key_index = (sort.key != "pause_record_id") if copied else _PAUSE_RECORD_ROW_INDEX[sort.key]
    rows, last = keyset_page(run, count_values, sort, sort.key in PAUSE_RECORD_NULLABLE_SORT_KEYS, key_index, after,
                             limit, (page - 1) * limit, copy_pages.position(int) if copied else None)
    return rows, total, last


# Pause records by moment

def pauses_due_to_end(now):
    """Active pauses whose expected return date has passed."""
    return pause_records(is_active=True).where(PauseRecord.expected_return_date < now)


_DUE_MOMENTS = PreparedQuery(lambda db, now, limit: PauseRecord.select(PauseRecord.id).where(
    PauseRecord.next_moment_at.is_null(False) & (PauseRecord.next_moment_at <= now)).order_by(
    PauseRecord.next_moment_at, PauseRecord.id).limit(limit), keys=2)


def due_moments(now, limit):
    """The numbers of up to `limit` pause records whose next moment is due at `now`, earliest first,
    along the index of next moments."""
    return [number for (number,) in _DUE_MOMENTS.rows(now, limit)]
