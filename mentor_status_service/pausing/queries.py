"""The reads of mentor statuses and pause records, each function beside the statement it runs.
Statements are built once per database (db/sql_cache.py); rows come back as the driver's tuples of
`MENTOR_COLUMNS` or `PAUSE_RECORD_COLUMNS`, which rendering.py turns into documents."""
from typing import NamedTuple

from peewee import JOIN, SQL, Case, Select, Tuple, fn

from ..db import PreparedByShape, PreparedQuery, database, is_postgresql
from . import cursors, totals, windows
from .models import MENTOR_SORT_KEYS, PAUSE_RECORD_SORT_KEYS, PAUSE_STATES, MentorStatus, PauseRecord

ActivePause = PauseRecord.alias("active_pause")
_Mentor = MentorStatus.alias("m")
_Pause = PauseRecord.alias("p")
_WindowPause = PauseRecord.alias("w")  # a pause of the mentor whose span may overlap a window
MENTOR_COLUMNS = (MentorStatus.mentor_id, MentorStatus.base_status, MentorStatus.metadata_json,
                  MentorStatus.created_at, MentorStatus.last_updated, ActivePause.id, ActivePause.start_date,
                  ActivePause.expected_return_date, ActivePause.reason)
PAUSE_RECORD_COLUMNS = (PauseRecord.id, PauseRecord.mentor, PauseRecord.start_date, PauseRecord.expected_return_date,
                        PauseRecord.end_date, PauseRecord.reason, PauseRecord.created_at, PauseRecord.state)
# What the calendar shows of a pause (calendars.py): its columns, then its version and modification time.
CALENDAR_COLUMNS = (*PAUSE_RECORD_COLUMNS, PauseRecord.version, PauseRecord.modified_at)


def in_state(table, state):
    """`table.state` is `state`, written as a literal so that both planners match the partial
    indexes on it (`WHERE state = 'active'`); a parameter would hide the value from SQLite's."""
    return table.state == SQL(f"'{state}'")


def _join_active_pause(query, mentor=MentorStatus):
    return query.join_from(mentor, ActivePause, JOIN.LEFT_OUTER,
                           on=(ActivePause.mentor == mentor.mentor_id) & in_state(ActivePause, "active"))


# Sorts

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


MENTOR_DEFAULT_SORT = ListSort("mentor_id")
_MENTOR_SORT_COLUMNS = {"last_updated": MentorStatus.last_updated, "created_at": MentorStatus.created_at,
                        "pause_start_date": ActivePause.start_date,
                        "expected_return_date": ActivePause.expected_return_date}
MENTOR_NULLABLE_SORT_KEYS = {"pause_start_date", "expected_return_date"}  # null while not paused
_MENTOR_ROW_INDEX = {"mentor_id": 0, "created_at": 3, "last_updated": 4, "pause_start_date": 6,
                     "expected_return_date": 7}  # in MENTOR_COLUMNS
PAUSE_RECORD_DEFAULT_SORT = ListSort("pause_record_id")
_PAUSE_RECORD_SORT_COLUMNS = {"pause_record_id": None, "start_date": PauseRecord.start_date,
                              "expected_return_date": PauseRecord.expected_return_date,
                              "end_date": PauseRecord.end_date, "created_at": PauseRecord.created_at}
PAUSE_RECORD_NULLABLE_SORT_KEYS = {"expected_return_date", "end_date"}
_PAUSE_RECORD_ROW_INDEX = {"pause_record_id": 0, "start_date": 2, "expected_return_date": 3, "end_date": 4,
                           "created_at": 6}  # in PAUSE_RECORD_COLUMNS


# One mentor

_MENTOR_ROW = PreparedQuery(lambda db, mentor_id: _join_active_pause(
    MentorStatus.select(*MENTOR_COLUMNS)).where(MentorStatus.mentor_id == mentor_id))


def mentor_row(mentor_id):
    """The mentor as a row of `MENTOR_COLUMNS`, or None."""
    return next(iter(_MENTOR_ROW.rows(mentor_id)), None)


_LOCKED_MENTOR = PreparedQuery(lambda db, mentor_id: MentorStatus.select().where(
    MentorStatus.mentor_id == mentor_id).for_update(for_update=db.for_update))
# For the applier of pauses' moments: a mentor another transaction holds is left for later.
_LOCKED_MENTOR_IF_FREE = PreparedQuery(lambda db, mentor_id: MentorStatus.select().where(
    MentorStatus.mentor_id == mentor_id).for_update(for_update="FOR UPDATE SKIP LOCKED" if db.for_update else False))
_ACTIVE_PAUSE_OF = PreparedQuery(lambda db, mentor_id: PauseRecord.select().where(
    (PauseRecord.mentor == mentor_id) & in_state(PauseRecord, "active")))


def locked_mentor(mentor_id, skip_locked=False):
    """Within a transaction: the mentor, locked until it ends (on SQLite, the IMMEDIATE
    transaction already holds the whole database), with its active pause; or None (with
    `skip_locked`, also when another transaction holds it, rather than wait)."""
    mentor = (_LOCKED_MENTOR_IF_FREE if skip_locked else _LOCKED_MENTOR).first(mentor_id)
    if mentor is not None:
        # A statement of its own, after the lock: a join locked in the same statement would
        # show the pause as it was before a concurrent write we waited for.
        mentor.active_pause = _ACTIVE_PAUSE_OF.first(mentor_id)
    return mentor


# Ids per statement when reading many mentors: well within SQLite's limit of 32,766 parameters.
IDS_PER_STATEMENT = 1000


def locked_mentors(mentor_ids):
    """Within a transaction: {mentor_id: mentor with its active pause} of those of `mentor_ids` that
    exist, each locked until the transaction ends, as `locked_mentor` locks one; locked in
    mentor_id order, so that two loads that share mentors never deadlock."""
    ordered, found = sorted(set(mentor_ids)), {}
    for start in range(0, len(ordered), IDS_PER_STATEMENT):
        chunk = ordered[start:start + IDS_PER_STATEMENT]
        query = MentorStatus.select().where(MentorStatus.mentor_id.in_(chunk)).order_by(MentorStatus.mentor_id)
        found.update((mentor.mentor_id, mentor) for mentor in query.for_update(for_update=database.for_update))
    ids = sorted(found)
    for start in range(0, len(ids), IDS_PER_STATEMENT):
        for pause in PauseRecord.select().where(
                PauseRecord.mentor.in_(ids[start:start + IDS_PER_STATEMENT]) & PauseRecord.end_date.is_null()):
            found[pause.mentor_id].active_pause = pause
    return found


INSERTED_MENTOR_FIELDS = ("mentor_id", "base_status", "metadata_json", "created_at", "last_updated")
_INSERT_MENTOR = PreparedQuery(lambda db, *values: MentorStatus.insert(
    dict(zip((getattr(MentorStatus, name) for name in INSERTED_MENTOR_FIELDS), values))),
    keys=len(INSERTED_MENTOR_FIELDS))


def insert_mentor(mentor):
    """INSERT a new mentor (as `save(force_insert=True)` would); IntegrityError if its id exists."""
    _INSERT_MENTOR.execute(*(getattr(mentor, name) for name in INSERTED_MENTOR_FIELDS))


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
        status, before, now, *windows_ = keys
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
            query = _Pause.select(_Pause.mentor.alias("mentor_id")).where(*conditions)
            column = _Pause.mentor
        else:
            conditions = []
            if self.status == "unpaused":
                conditions += [_Mentor.base_status == status, ~_active_pause_exists()]
            if self.is_paused is False:
                conditions.append(~_active_pause_exists())
            if self.overdue is False:
                conditions.append(~_active_pause_exists(_Pause.expected_return_date < now))
            conditions += self.window_conditions(_Mentor.mentor_id, (_Mentor.base_status != "inactive") |
                                                 _active_pause_exists(), windows_, now)
            query = _Mentor.select(_Mentor.mentor_id)
            query = query.where(*conditions) if conditions else query
            column = _Mentor.mentor_id
        if after is not None:
            query = query.where(column < after if descending else column > after)
        return query.order_by(column.desc() if descending else column)

    def window_conditions(self, mentor_column, not_inactive, windows_, now):
        """The conditions of `out_during` and `available_during` on the mentor `mentor_column`:
        `windows_` holds the start and end of each window; `not_inactive` says that the mentor is
        not inactive now (None where every mentor listed is paused)."""
        out_start, out_end, free_start, free_end = windows_
        conditions = []
        if self.out:
            conditions.append(_window_pause_exists(mentor_column, out_start, out_end, now))
        if self.available:
            conditions.append(~_window_pause_exists(mentor_column, free_start, free_end, now))
        if self.available and not_inactive is not None:
            conditions.append(not_inactive)
        return conditions

    def row_conditions(self, keys):
        """The filters as conditions on a mentor joined to its active pause, for the lists sorted
        by something other than mentor_id."""
        status, before, now, *windows_ = keys
        conditions = []
        if self.paused_only:
            conditions.append(ActivePause.id.is_null(False))
        # "Not paused" as NOT EXISTS, not as the joined pause being null: PostgreSQL then plans an
        # anti join along the sort's index, where it estimated the null test at one row and sorted
        # the whole table.
        if self.status == "unpaused":
            conditions += [MentorStatus.base_status == status, ~_active_pause_exists(mentor=MentorStatus)]
        if self.is_paused is False:
            conditions.append(~_active_pause_exists(mentor=MentorStatus))
        if self.before:
            conditions.append(ActivePause.expected_return_date < before)
        if self.overdue is True:
            conditions.append(ActivePause.expected_return_date < now)
        elif self.overdue is False:
            conditions.append(~_active_pause_exists(_Pause.expected_return_date < now, mentor=MentorStatus))
        if self.empty:
            conditions.append(SQL("1 = 0"))
        conditions += self.window_conditions(MentorStatus.mentor_id, (MentorStatus.base_status != "inactive") |
                                             ActivePause.id.is_null(False), windows_, now)
        if self.available_now:
            # Implied by the window's condition (an active pause begun by now and not ended by now
            # overlaps every window that holds now), but visible to the planner: sorted by a pause
            # field, it then reads the few pauses that begin later instead of every paused mentor.
            conditions.append(ActivePause.id.is_null() | (ActivePause.start_date > now) | (ActivePause.end_date <= now))
        return conditions

    def sorted_rows(self, plan, keys, value, tie):
        """The mentors of one branch of `plan` (a `SortPlan` on a key other than mentor_id), as
        rows of `MENTOR_COLUMNS` in its order, after (`value`, `tie`) when the plan has a position."""
        key = _MENTOR_SORT_COLUMNS[plan.sort.key]
        pause_field = plan.sort.key in MENTOR_NULLABLE_SORT_KEYS
        # A pause field's values and their tie key both come from the active pause, so that its
        # partial index by (field, mentor_id) gives the order; so do its nulls when every mentor
        # listed is paused (the index's entries with a null field, by mentor_id).
        from_pause = pause_field and (not plan.nulls or self.paused_only)
        tie_column = ActivePause.mentor if from_pause else MentorStatus.mentor_id
        query = _join_active_pause(MentorStatus.select(*MENTOR_COLUMNS))
        conditions = self.row_conditions(keys)
        null_condition = None
        if pause_field and not plan.nulls and (self.status == "unpaused" or self.is_paused is False):
            conditions.append(SQL("1 = 0"))  # a mentor not paused has no pause field
        elif pause_field and plan.nulls and not self.paused_only:
            # No active pause with the field set, as NOT EXISTS: an anti join along mentor_id.
            field = _Pause.start_date if plan.sort.key == "pause_start_date" else _Pause.expected_return_date
            null_condition = ~_active_pause_exists(field.is_null(False), mentor=MentorStatus)
        query = query.where(*conditions) if conditions else query
        return _keyset(query, plan, key, tie_column, value, tie, null_condition)

    def page(self, plan, keys, value, tie, limit, offset):
        if plan.sort.key != "mentor_id":
            return self.sorted_rows(plan, keys, value, tie).limit(limit).offset(offset)
        # The page's ids first, then their rows: the join costs only the page's own rows.
        descending = plan.sort.descending
        ids = self.mentor_ids(keys, descending, tie if plan.after else None)
        ids = ids.limit(limit).offset(offset).alias("page")
        query = _join_active_pause(MentorStatus.select(*MENTOR_COLUMNS).join(
            ids, on=(MentorStatus.mentor_id == ids.c.mentor_id)))
        return query.order_by(MentorStatus.mentor_id.desc() if descending else MentorStatus.mentor_id)

    def branch_count(self, plan, keys):
        """How many mentors the branch of `plan` lists (from its start)."""
        return self.sorted_rows(plan, keys, None, None).order_by().select_from(fn.COUNT(SQL("*")))

    def count(self, keys):
        return self.mentor_ids(keys).order_by().select_from(fn.COUNT(SQL("*")))

    def total(self, keys):
        """The exact number of mentors listed, read from the list totals wherever they can tell it,
        so that a page costs what its own rows cost; counted only for a combination they cannot."""
        status, before, now, *_ = keys
        if self.empty:
            return 0
        if self.out or self.available:
            return self.window_total(keys)
        if self.paused_only and self.overdue is not False:
            # Every paused mentor has one active pause: all of them, or those due before a moment
            # (the earlier of `before` and now when both filters apply).
            if not self.before and self.overdue is None:
                return totals.sum_of("pauses_active")
            return totals.due_before(min(before, now) if self.before and self.overdue else before or now)[0]
        if self.paused_only and not self.before and self.status != "unpaused":
            # Paused and not overdue: the active pauses less those due now.
            due, counts = totals.due_before(now)
            return counts["pauses_active"] - due
        if not self.paused_only:
            statuses = {"active", "inactive", "paused"} if status is None else {status}
            if self.is_paused is False or self.overdue is False and self.status is not None:
                statuses -= {"paused"}  # an unpaused mentor is never overdue
            if self.overdue is False and statuses == {"active", "inactive", "paused"}:
                # Every mentor but the overdue ones.
                due, counts = totals.due_before(now)
                return sum(counts.values()) - due
            return totals.sum_of(*(totals.TOTAL_OF_STATUS[each] for each in statuses)) if statuses else 0
        # Paused, expected back before a date, and not overdue: no total tells it.
        return _MENTOR_TOTALS.get(self).rows(*keys)[0][0]

    def window_total(self, keys):
        """The total of a list with `out_during` or `available_during` (not both), filtered at most
        by status or is_paused: from the mentors out in the window, counted by their status now
        (`out_by_status`), and for those available the list totals, which count the mentors of
        each status, less those of them that are out. Any other list is counted."""
        if self.out == self.available or self.before or self.overdue is not None:
            return _MENTOR_TOTALS.get(self).rows(*keys)[0][0]
        status, _, now, out_start, out_end, free_start, free_end = keys
        statuses = {"active", "paused"} if self.available else {"active", "paused", "inactive"}
        if status is not None:
            statuses &= {status}
        if self.is_paused is not None:
            statuses &= {"paused"} if self.is_paused else {"active", "inactive"}
        if not statuses:
            return 0
        window = (free_start, free_end) if self.available else (out_start, out_end)
        out = out_by_status(*window, now)
        out_listed = sum(out[each] for each in statuses)
        if self.out:
            return out_listed
        return totals.sum_of(*(totals.TOTAL_OF_STATUS[each] for each in statuses)) - out_listed


def _active_pause_exists(condition=None, mentor=_Mentor):
    condition = (_Pause.mentor == mentor.mentor_id) & in_state(_Pause, "active") & (
        SQL("1 = 1") if condition is None else condition)
    return fn.EXISTS(_Pause.select(SQL("1")).where(condition))


def _out_counts(window_start, window_end, now):
    """How many mentors have a pause (in any state) whose span overlaps the window, how many of them
    are paused now and how many inactive. The mentors out are the union of the two branches of the
    overlap, each an index-only range scan; each of them is then looked up by index (correlated
    EXISTS: a join would read every active pause)."""
    ended, open_ = PauseRecord.alias("e"), PauseRecord.alias("o")
    out = ended.select(ended.mentor.alias("mentor_id")).where(
        windows.overlaps_ended(ended, window_start, window_end)).union(
        open_.select(open_.mentor.alias("mentor_id")).where(
            windows.overlaps_open(open_, window_start, window_end, now))).alias("out")
    active, mentor = PauseRecord.alias("a"), MentorStatus.alias("i")
    paused = fn.EXISTS(active.select(SQL("1")).where((active.mentor == out.c.mentor_id) & in_state(active, "active")))
    inactive = fn.EXISTS(mentor.select(SQL("1")).where(
        (mentor.mentor_id == out.c.mentor_id) & (mentor.base_status == "inactive")))
    return Select([out], [fn.COUNT(SQL("*")), fn.COUNT(Case(None, [(paused, 1)])),
                          fn.COUNT(Case(None, [(~paused & inactive, 1)]))])


_OUT_COUNTS = PreparedQuery(lambda db, *keys: _out_counts(*keys).bind(db), keys=3)


def out_by_status(window_start, window_end, now):
    """How many mentors of each status now ({status: count}) have a pause whose span overlaps the window."""
    out, paused, inactive = _OUT_COUNTS.rows(window_start, window_end, now)[0]
    return {"active": out - paused - inactive, "paused": paused, "inactive": inactive}


def _window_pause_exists(mentor_column, window_start, window_end, now):
    """Whether the mentor `mentor_column` has a pause (in any state) whose span overlaps the window."""
    return fn.EXISTS(_WindowPause.select(SQL("1")).where(
        (_WindowPause.mentor == mentor_column) & windows.overlaps(_WindowPause, window_start, window_end, now)))


# What a mentor list's statements take: status, expected_return_before, now, and the start and end of
# the out_during and available_during windows.
MENTOR_LIST_KEYS = 7
_MENTOR_PAGES = PreparedByShape(lambda spec, *keys: spec[0].page(
    spec[1], keys[:MENTOR_LIST_KEYS], *keys[MENTOR_LIST_KEYS:]), keys=MENTOR_LIST_KEYS + 4)
_MENTOR_BRANCH_COUNTS = PreparedByShape(lambda spec, *keys: spec[0].branch_count(spec[1], keys), keys=MENTOR_LIST_KEYS)
_MENTOR_TOTALS = PreparedByShape(lambda shape, *keys: shape.count(keys), keys=MENTOR_LIST_KEYS)


def mentor_page(limit, now, sort=MENTOR_DEFAULT_SORT, page=1, after=None, with_total=True, **filters):
    """A page of mentors, filtered by whatever is given, in the order of `sort` (a ListSort), as
    rows of `MENTOR_COLUMNS`; the exact total (None without `with_total`); and the position
    after the page's last row when a row follows it (else None). The page is the `page`th, or
    the one after the Position `after`. Overdue: paused, and expected back before `now`."""
    shape = MentorListShape.of(**filters)
    free = filters.get("available_during")
    shape = shape._replace(available_now=free is not None and free.start <= now < free.end)
    keys = (filters.get("status"), filters.get("expected_return_before"), now,
            *(filters.get("out_during") or (None, None)), *(filters.get("available_during") or (None, None)))
    total = shape.total(keys) if with_total else None
    if after is None and total is not None and (page - 1) * limit >= total:
        return [], total, None  # past the end, without asking the database to skip `total` rows

    def run(plan, value, tie, count, offset):
        return _MENTOR_PAGES.get((shape, plan)).rows(*keys, value, tie, count, offset)

    def count_values(plan):
        return _MENTOR_BRANCH_COUNTS.get((shape, plan)).rows(*keys)[0][0]

    rows, last = _keyset_page(run, count_values, sort, sort.key in MENTOR_NULLABLE_SORT_KEYS,
                              _MENTOR_ROW_INDEX[sort.key], after, limit, (page - 1) * limit)
    return rows, total, last


# One pause record

_PAUSE_RECORD = PreparedQuery(lambda db, number: PauseRecord.select().where(PauseRecord.id == number))


def pause_record(number):
    """The record numbered `number` as a model, or None."""
    return _PAUSE_RECORD.first(number)


_PAUSE_RECORD_ROW = PreparedQuery(lambda db, number: PauseRecord.select(*PAUSE_RECORD_COLUMNS).where(
    PauseRecord.id == number))


def pause_record_row(number):
    """The record as a row of `PAUSE_RECORD_COLUMNS`, or None."""
    return next(iter(_PAUSE_RECORD_ROW.rows(number)), None)


# Lists of pause records

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
    if during is not None and branch is None:
        query = query.where(windows.overlaps(PauseRecord, during.start, during.end, now))
    elif during is not None:
        query = query.where(windows.overlaps_ended(PauseRecord, *during) if branch == "ended" else
                            windows.overlaps_open(PauseRecord, *during, now))
    return query


def pauses_due_to_end(now):
    """Active pauses whose expected return date has passed."""
    return pause_records(is_active=True).where(PauseRecord.expected_return_date < now)


def pending_pauses_of(mentor_id):
    """The scheduled and active pauses of a mentor, as models (few: they never overlap)."""
    return list(PauseRecord.select().where((PauseRecord.mentor == mentor_id) & (
        PauseRecord.state != SQL("'ended'"))).order_by(PauseRecord.id))


def pause_states_of(mentor_id):
    """(state, how many) of a mentor's pause records."""
    return PauseRecord.select(PauseRecord.state, fn.COUNT(SQL("*"))).where(
        PauseRecord.mentor == mentor_id).group_by(PauseRecord.state).tuples()


_DUE_MOMENTS = PreparedQuery(lambda db, now, limit: PauseRecord.select(PauseRecord.id).where(
    PauseRecord.next_moment_at.is_null(False) & (PauseRecord.next_moment_at <= now)).order_by(
    PauseRecord.next_moment_at, PauseRecord.id).limit(limit), keys=2)


def due_moments(now, limit):
    """The numbers of up to `limit` pause records whose next moment is due at `now`, earliest first,
    along the index of next moments."""
    return [number for (number,) in _DUE_MOMENTS.rows(now, limit)]


class PauseRecordListShape(NamedTuple):
    """Which filters a pause-record list has, as far as its SQL depends on them."""

    mentor: bool
    is_active: bool | None
    reason: bool
    during: bool
    state: str | None = None

    @classmethod
    def of(cls, mentor_id=None, is_active=None, reason=None, during=None, state=None):
        return cls(mentor_id is not None, is_active, reason is not None, during is not None, state)

    def listing(self, mentor_id, reason, window_start, window_end, now, columns, branch=None):
        return pause_records(mentor_id if self.mentor else None, self.is_active, reason if self.reason else None,
                             windows.Window(window_start, window_end) if self.during else None, now, columns, branch,
                             state=self.state)

    def rows(self, plan, keys, value, tie, calendar=False):
        query = self.listing(*keys, CALENDAR_COLUMNS if calendar else PAUSE_RECORD_COLUMNS)
        return _keyset(query, plan, _PAUSE_RECORD_SORT_COLUMNS[plan.sort.key], PauseRecord.id, value, tie)


# The keys of a pause-record list's statements: mentor_id, reason, window start and end, now.
_PAUSE_RECORD_KEYS = 5
_PAUSE_RECORD_PAGES = PreparedByShape(lambda spec, *keys: spec[0].rows(
    spec[1], keys[:_PAUSE_RECORD_KEYS], *keys[_PAUSE_RECORD_KEYS:_PAUSE_RECORD_KEYS + 2], spec[2]).limit(
    keys[-2]).offset(keys[-1]), keys=_PAUSE_RECORD_KEYS + 4)
_PAUSE_RECORD_BRANCH_COUNTS = PreparedByShape(lambda spec, *keys: spec[0].rows(
    spec[1], keys, None, None).order_by().select_from(fn.COUNT(SQL("*"))), keys=_PAUSE_RECORD_KEYS)
# By (shape, branch): with a window, each branch of the overlap is counted apart, along its own index.
_PAUSE_RECORD_TOTALS = PreparedByShape(lambda spec, *keys: spec[0].listing(
    *keys, (fn.COUNT(SQL("*")),), spec[1]).order_by(), keys=_PAUSE_RECORD_KEYS)


def pause_record_page(limit, sort=PAUSE_RECORD_DEFAULT_SORT, page=1, after=None, with_total=True, now=None,
                      calendar=False, mentor_id=None, is_active=None, reason=None, during=None, state=None):
    """A page of `pause_records(...)` in the order of `sort`, as rows of `PAUSE_RECORD_COLUMNS`
    (`CALENDAR_COLUMNS` with `calendar`), the exact total and the position after the page's last
    row, as `mentor_page` gives them. The total is read from the list totals when at most
    is_active and state filter the list, else counted. `during` (a windows.Window) is judged as of `now`."""
    shape = PauseRecordListShape.of(mentor_id, is_active, reason, during, state)
    keys = (mentor_id, reason, *(during or (None, None)), now)
    total = None
    if with_total and not (shape.mentor or shape.reason or shape.during):
        states = {each for each in PAUSE_STATES if (state is None or each == state) and (
            is_active is None or (each == "active") == is_active)}
        total = totals.sum_of(*(f"pauses_{each}" for each in states))
    elif with_total:
        branches = ("ended", "open") if shape.during else (None,)
        total = sum(_PAUSE_RECORD_TOTALS.get((shape, branch)).rows(*keys)[0][0] for branch in branches)
    if after is None and total is not None and (page - 1) * limit >= total:
        return [], total, None

    def run(plan, value, tie, count, offset):
        return _PAUSE_RECORD_PAGES.get((shape, plan, calendar)).rows(*keys, value, tie, count, offset)

    def count_values(plan):
        return _PAUSE_RECORD_BRANCH_COUNTS.get((shape, plan)).rows(*keys)[0][0]

    rows, last = _keyset_page(run, count_values, sort, sort.key in PAUSE_RECORD_NULLABLE_SORT_KEYS,
                              _PAUSE_RECORD_ROW_INDEX[sort.key], after, limit, (page - 1) * limit)
    return rows, total, last


# Sorted lists, read a page at a time by keyset

assert set(MENTOR_SORT_KEYS) == set(_MENTOR_ROW_INDEX) == {"mentor_id", *_MENTOR_SORT_COLUMNS}
assert set(PAUSE_RECORD_SORT_KEYS) == set(_PAUSE_RECORD_ROW_INDEX) == set(_PAUSE_RECORD_SORT_COLUMNS)


def _keyset(query, plan, key, tie_column, value, tie, null_condition=None):
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


def _keyset_page(run, count_values, sort, nullable, key_index, after, limit, offset):
    """Up to `limit` rows in the order of `sort` (after the Position `after`, or from `offset`),
    read by `run(plan, value, tie, count, offset)`: the rows with a sort value first, then, for a
    `nullable` key, those without; and the Position after the last row when another follows."""
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
    value = None if default else rows[-1][key_index]
    return rows, cursors.Position(not default and value is None, value, rows[-1][0])


def _check_position(after, default, nullable):
    """A position of this sort: a value unless the sort is the default one, or null for a nullable key."""
    if after is None:
        return
    if default and (after.nulls or after.value is not None):
        raise cursors.InvalidCursor()
    if not default and (after.value is None) != after.nulls or after.nulls and not nullable:
        raise cursors.InvalidCursor()
