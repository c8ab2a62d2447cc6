"""The list of mentor statuses: the statements of each filter and sort (`out_during` and
`available_during` among them, windows.py), each function beside the statement it runs, and the
exact totals (mentor_totals.py). Pages are read by keyset
(keyset.py); rows come back as the driver's tuples of `lookups.MENTOR_COLUMNS` (or, copied,
as CSV lines: copy_pages.py). The pause records' list is pause_record_lists.py."""
import functools
import json
from typing import NamedTuple

from peewee import SQL, fn

from ..db import PreparedByShape, is_postgresql
from . import copy_pages, few_paused, mentor_totals, totals, windows
from .keyset import ListSort, SortPlan, keyset, keyset_page, merged_halves
from .lookups import MENTOR_COLUMNS, ActivePause, in_state, join_active_pause, paused_is
from .models import MENTOR_SORT_KEYS, MentorStatus, PauseRecord
from .rendering import MENTOR_STATUS

_Mentor = MentorStatus.alias("m")
_Pause = PauseRecord.alias("p")


MENTOR_DEFAULT_SORT = ListSort("mentor_id")
_MENTOR_SORT_COLUMNS = {"last_updated": MentorStatus.last_updated, "created_at": MentorStatus.created_at,
                        "pause_start_date": ActivePause.start_date,
                        "expected_return_date": ActivePause.expected_return_date}
MENTOR_NULLABLE_SORT_KEYS = {"pause_start_date", "expected_return_date"}  # null while not paused
_MENTOR_ROW_INDEX = {"mentor_id": 0, "created_at": 3, "last_updated": 4, "pause_start_date": 6,
                     "expected_return_date": 7}  # in MENTOR_COLUMNS


assert set(MENTOR_SORT_KEYS) == set(_MENTOR_ROW_INDEX) == {"mentor_id", *_MENTOR_SORT_COLUMNS}


# Lists of mentors

class MentorListShape(NamedTuple):
    """Which filters a mentor list has, as far as its SQL depends on them."""

    status: str | None  # "paused", "unpaused" (active or inactive) or None
    is_paused: bool | None
    before: bool  # expected_return_before given
    overdue: bool | None
    out: bool  # out_during given: a pause overlaps its window
    available: bool  # available_during given: not inactive, and no pause overlaps its window
    available_now: bool = False  # ... and its window holds now
    paused_among: bool = False  # the paused mentors listed are among the ids of the key `among`

    @classmethod
    def of(cls, status=None, is_paused=None, expected_return_before=None, overdue=None, out_during=None,
           available_during=None):
        return cls(None if status is None else "paused" if status == "paused" else "unpaused", is_paused,
                   expected_return_before is not None, overdue, out_during is not None, available_during is not None)

    @property
    def paused_only(self):
        """Every mentor listed must be paused."""
        return self.status == "paused" or self.is_paused is True or self.before or self.overdue is True

    @property
    def empty(self):
        return self.paused_only and (self.status == "unpaused" or self.is_paused is False)

    def mentor_ids(self, keys, descending=False, after=None):
        """The ids listed, in order (descending: the other way; after: only those past that id):
        from the index of active pauses by mentor when every mentor listed is paused, else from
        the mentors' primary key, so that a page is an ordered index scan joined to nothing but
        its own rows. `keys`: those of `MENTOR_LIST_KEYS`."""
        status, before, now, *windows_, among = keys
        if self.paused_only:
            conditions = [in_state(_Pause, "active")]
            if self.before:
                conditions.append(_Pause.expected_return_date < before)
            if self.overdue is True:
                conditions.append(_Pause.expected_return_date < now)
            elif self.overdue is False:
                conditions.append(_Pause.expected_return_date.is_null() | (_Pause.expected_return_date >= now))
            if self.empty:
                conditions.append(SQL("1 = 0"))
            conditions += self.window_conditions(_Pause.mentor, None, windows_, now)  # paused: not inactive
            if self.paused_among:
                conditions.append(few_paused.among(_Pause.mentor, among))
            query = _Pause.select(_Pause.mentor.alias("mentor_id")).where(*conditions)
            column = _Pause.mentor
        else:
            conditions = []
            if self.status == "unpaused":
                conditions += [_Mentor.base_status == status, paused_is(_Mentor, False)]
            if self.is_paused is False:
                conditions.append(paused_is(_Mentor, False))
            if self.overdue is False:
                conditions.append(~_active_pause_exists(_Pause.expected_return_date < now))
            conditions += self.window_conditions(_Mentor.mentor_id, _not_inactive(_Mentor), windows_, now)
            query = _Mentor.select(_Mentor.mentor_id)
            query = query.where(*conditions) if conditions else query
            column = _Mentor.mentor_id
        if after is not None:
            query = query.where(column < after if descending else column > after)
        return query.order_by(column.desc() if descending else column)

    def window_conditions(self, mentor_column, not_inactive, windows_, now):
        """The conditions of `out_during` and `available_during` (windows.list_conditions)."""
        return windows.list_conditions(self.out, self.available, mentor_column, not_inactive, windows_, now)

    def row_conditions(self, keys, paused_rows=None):
        """The filters as conditions on a mentor joined to its active pause, for the lists sorted
        by something other than mentor_id; `paused_rows` True or False: only the mentors paused, or
        only those not (a branch of a pause date's values, whose every mentor has an active pause,
        or one half of `split_by_pause`)."""
        status, before, now, *windows_, among = keys
        conditions = []
        # Paused or not as the mentor's own `paused`, beside the joined pause: the sort's index
        # within it (migration 0014) is then one range, where the pause alone made the database
        # walk every mentor in order and probe its pause.
        if paused_rows is not None and not self.paused_only:
            conditions.append(paused_is(MentorStatus, paused_rows))
            if paused_rows:  # an inner join: the pause's own conditions can then lead the plan
                conditions.append(ActivePause.id.is_null(False))
        if self.paused_only:
            conditions += [ActivePause.id.is_null(False), paused_is(MentorStatus, True)]
        if self.paused_among and (self.paused_only or paused_rows):
            conditions.append(few_paused.among(MentorStatus.mentor_id, among))
        if self.status == "unpaused":
            conditions += [MentorStatus.base_status == status, paused_is(MentorStatus, False)]
        if self.is_paused is False:
            conditions.append(paused_is(MentorStatus, False))
        if self.before:
            conditions.append(ActivePause.expected_return_date < before)
        if self.overdue is True:
            conditions.append(ActivePause.expected_return_date < now)
        elif self.overdue is False and (paused_rows or self.paused_only):
            # The joined pause's own date, not NOT EXISTS: the pauses not overdue are then read along
            # the index by expected return (none, or a few), where the anti join probed every active
            # pause in the sort's order.
            conditions.append(ActivePause.expected_return_date.is_null() | (ActivePause.expected_return_date >= now))
        elif self.overdue is False and paused_rows is None:
            conditions.append(~_active_pause_exists(_Pause.expected_return_date < now, mentor=MentorStatus))
        if self.empty:
            conditions.append(SQL("1 = 0"))
        conditions += self.window_conditions(MentorStatus.mentor_id, _not_inactive(MentorStatus), windows_, now)
        if self.available_now:
            # Implied by the window's condition (an active pause begun by now and not ended by now
            # overlaps every window that holds now), but visible to the planner: sorted by a pause
            # field, it then reads the few pauses that begin later instead of every paused mentor.
            conditions.append(ActivePause.id.is_null() | (ActivePause.start_date > now) | (ActivePause.end_date <= now))
        return conditions

    def split_by_pause(self, plan):
        """Whether the page of `plan` is read as two halves, the mentors paused and the others:
        `overdue=false` sorted by a mentor column lists both, and in one walk of the sort's index
        the database would probe the pause of every overdue mentor met before the page's rows
        (pausing a mentor updates its last_updated, so they tend to come first)."""
        return (self.overdue is False and not self.paused_only and self.status != "unpaused"
                and self.is_paused is not False and plan.sort.key in ("last_updated", "created_at"))

    def sorted_rows(self, plan, keys, value, tie, paused_rows=None, columns=MENTOR_COLUMNS):
        """The mentors of one branch of `plan` (a `SortPlan` on a key other than mentor_id), as
        rows of `MENTOR_COLUMNS` in its order, after (`value`, `tie`) when the plan has a position;
        `paused_rows` as `row_conditions` takes it."""
        key = _MENTOR_SORT_COLUMNS[plan.sort.key]
        pause_field = plan.sort.key in MENTOR_NULLABLE_SORT_KEYS
        # A pause field's values and their tie key both come from the active pause, so that its
        # partial index by (field, mentor_id) gives the order; so do its nulls when every mentor
        # listed is paused (the index's entries with a null field, by mentor_id).
        from_pause = pause_field and (not plan.nulls or self.paused_only)
        tie_column = ActivePause.mentor if from_pause else MentorStatus.mentor_id
        query = join_active_pause(MentorStatus.select(*columns))
        conditions = self.row_conditions(keys, True if from_pause and not plan.nulls else paused_rows)
        null_condition = None
        if pause_field and not plan.nulls and (self.status == "unpaused" or self.is_paused is False):
            conditions.append(SQL("1 = 0"))  # a mentor not paused has no pause field
        elif pause_field and plan.nulls and not self.paused_only:
            # No active pause with the field set, as NOT EXISTS: an anti join along mentor_id.
            field = _Pause.start_date if plan.sort.key == "pause_start_date" else _Pause.expected_return_date
            null_condition = ~_active_pause_exists(field.is_null(False), mentor=MentorStatus)
        query = query.where(*conditions) if conditions else query
        return keyset(query, plan, key, tie_column, value, tie, null_condition)

    def page(self, plan, keys, value, tie, limit, offset, columns=MENTOR_COLUMNS):
        if self.split_by_pause(plan):
            # Each half along its own index (migration 0014), its first rows merged in the sort's order.
            halves = [self.sorted_rows(plan, keys, value, tie, paused, columns) for paused in (False, True)]
            return merged_halves(MentorStatus, halves, (plan.sort.key, "mentor_id"), plan.sort.descending, limit,
                                 offset)
        if plan.sort.key != "mentor_id":
            return self.sorted_rows(plan, keys, value, tie, columns=columns).limit(limit).offset(offset)
        # The page's ids first, then their rows: the join costs only the page's own rows.
        descending = plan.sort.descending
        ids = self.mentor_ids(keys, descending, tie if plan.after else None)
        ids = ids.limit(limit).offset(offset).alias("page")
        query = join_active_pause(MentorStatus.select(*columns).join(
            ids, on=(MentorStatus.mentor_id == ids.c.mentor_id)))
        return query.order_by(MentorStatus.mentor_id.desc() if descending else MentorStatus.mentor_id)

    def branch_count(self, plan, keys):
        """How many mentors the branch of `plan` lists (from its start)."""
        return self.sorted_rows(plan, keys, None, None).order_by().select_from(fn.COUNT(SQL("*")))

    def count(self, keys):
        return self.mentor_ids(keys).order_by().select_from(fn.COUNT(SQL("*")))

    def total(self, keys, due_now=None):
        """The exact number of mentors listed (mentor_totals.py)."""
        return mentor_totals.total(self, keys, lambda: _MENTOR_TOTALS.get(self).rows(*keys)[0][0], due_now)


def _not_inactive(mentor):
    """The mentor is not inactive now: its base status is not, or it is paused (its own flag, which
    the database keeps: probing its pauses made PostgreSQL hash every active pause first)."""
    return (mentor.base_status != "inactive") | paused_is(mentor, True)


def _active_pause_exists(condition=None, mentor=_Mentor):
    condition = (_Pause.mentor == mentor.mentor_id) & in_state(_Pause, "active") & (
        SQL("1 = 1") if condition is None else condition)
    return fn.EXISTS(_Pause.select(SQL("1")).where(condition))


# What a mentor list's statements take: status, expected_return_before, now, the start and end of the
# out_during and available_during windows, and the ids (a JSON array) the paused mentors are among.
MENTOR_LIST_KEYS = 8
# A page's statement also takes a position (value, tie), and its LIMIT and OFFSET. Status, LIMIT and
# OFFSET are written into a statement that takes nothing else, so that it is planned once
# (sql_cache.py).
_PAGE_LITERALS = (0, MENTOR_LIST_KEYS + 2, MENTOR_LIST_KEYS + 3)
_MENTOR_PAGES = PreparedByShape(lambda spec, *keys: spec[0].page(  # spec: shape, plan, copied
    spec[1], keys[:MENTOR_LIST_KEYS], *keys[MENTOR_LIST_KEYS:], columns=copy_pages.columns(
        MENTOR_STATUS, MentorStatus.mentor_id, _MENTOR_SORT_COLUMNS.get(spec[1].sort.key)) if spec[2] else
    MENTOR_COLUMNS), keys=MENTOR_LIST_KEYS + 4, literal_keys=_PAGE_LITERALS)
# A page's first statement with its total as a last column: (shape, plan, the totals it sums).
_MENTOR_PAGES_WITH_TOTAL = PreparedByShape(lambda spec, *keys: spec[0].page(
    spec[1], keys[:MENTOR_LIST_KEYS], *keys[MENTOR_LIST_KEYS:], columns=MENTOR_COLUMNS).select_extend(
    SQL(totals.sum_sql(spec[2]))), keys=MENTOR_LIST_KEYS + 4, literal_keys=_PAGE_LITERALS)
_MENTOR_BRANCH_COUNTS = PreparedByShape(lambda spec, *keys: spec[0].branch_count(spec[1], keys), keys=MENTOR_LIST_KEYS,
                                        literal_keys=_PAGE_LITERALS)
_MENTOR_TOTALS = PreparedByShape(lambda shape, *keys: shape.count(keys), keys=MENTOR_LIST_KEYS,
                                 literal_keys=_PAGE_LITERALS)
# On PostgreSQL (SQLite has no round trip to save), a page numbered up to this far in reads its total in
# its own statement; one past the end then skips this many rows at most (a total read first would not).
TOTAL_IN_PAGE_MAX_OFFSET = 1000


def mentor_page(limit, now, sort=MENTOR_DEFAULT_SORT, page=1, after=None, with_total=True, copied=False,
                **filters):
    """A page of mentors, filtered by whatever is given, in the order of `sort` (a ListSort), as
    rows of `MENTOR_COLUMNS` (`copied`: as CSV lines, copy_pages.py); the exact total (None without
    `with_total`); and the position after the page's last row when a row follows it (else None).
    The page is the `page`th, or the one after the Position `after`. Overdue: paused, and
    expected back before `now`."""
    shape = MentorListShape.of(**filters)
    free = filters.get("available_during")
    shape = shape._replace(available_now=free is not None and free.start <= now < free.end)
    keys = (filters.get("status"), filters.get("expected_return_before"), now,
            *(filters.get("out_during") or (None, None)), *(free or (None, None)), None)
    halves = mentor_totals.window_halves(shape, keys)
    if halves is not None and shape.is_paused is None and any(halves) and not all(halves):
        # The counts say that every mentor listed is paused, or that none is: the page reads that
        # half alone, along its own indexes, rather than walking the other half's mentors in the
        # sort's order and probing the pauses of each one.
        shape = shape._replace(is_paused=bool(halves[0]))
    due_now = functools.cache(lambda: totals.due_before(now))  # read once, if at all, for both uses below
    paused_alone = (shape.paused_only or shape.is_paused or sort.key in MENTOR_NULLABLE_SORT_KEYS
                    or shape.split_by_pause(SortPlan(sort, False, False)))
    among = few_paused.for_page(shape, paused_alone, halves, free, now, due_now)
    if among is not None:
        shape, keys = shape._replace(paused_among=True), (*keys[:-1], json.dumps(among))
    offset = (page - 1) * limit
    names = mentor_totals.names(shape, keys) if (with_total and after is None and offset <= TOTAL_IN_PAGE_MAX_OFFSET
                                        and not copied and is_postgresql()) else None
    total = (sum(halves) if halves is not None else shape.total(keys, due_now)) if with_total and not names else None
    if after is None and total is not None and offset >= total:
        return [], total, None  # past the end, without asking the database to skip `total` rows

    def run(plan, value, tie, count, offset):
        nonlocal total
        if names and total is None and not plan.nulls and not plan.after:
            rows = _MENTOR_PAGES_WITH_TOTAL.get((shape, plan, names)).rows(*keys, value, tie, count, offset)
            if rows and rows[0][-1] is None:
                raise totals.MissingListTotals()
            total = rows[0][-1] if rows else None
            return [row[:-1] for row in rows]
        prepared = _MENTOR_PAGES.get((shape, plan, copied))
        if copied:
            return copy_pages.read(prepared, (*keys, value, tie, count, offset), sort.key != "mentor_id")
        return prepared.rows(*keys, value, tie, count, offset)

    def count_values(plan):
        return _MENTOR_BRANCH_COUNTS.get((shape, plan)).rows(*keys)[0][0]

    key_index = (sort.key != "mentor_id") if copied else _MENTOR_ROW_INDEX[sort.key]
    rows, last = keyset_page(run, count_values, sort, sort.key in MENTOR_NULLABLE_SORT_KEYS, key_index, after, limit,
                             offset, copy_pages.position(str) if copied else None)
    if with_total and total is None:
        total = shape.total(keys, due_now)  # the page's own statement found no row to carry it
    return rows, total, last
