"""The reads of mentor statuses and pause records, each function beside the statement it runs.
Statements are built once per database (prepared.py); rows come back as the driver's tuples of
`MENTOR_COLUMNS` or `PAUSE_RECORD_COLUMNS`, which rendering.py turns into documents."""
from typing import NamedTuple

from peewee import JOIN, SQL, fn

from . import totals
from .models import MentorStatus, PauseRecord
from .prepared import PreparedByShape, PreparedQuery

ActivePause = PauseRecord.alias("active_pause")
_Mentor = MentorStatus.alias("m")
_Pause = PauseRecord.alias("p")
MENTOR_COLUMNS = (MentorStatus.mentor_id, MentorStatus.base_status, MentorStatus.metadata_json,
                  MentorStatus.created_at, MentorStatus.last_updated, ActivePause.id, ActivePause.start_date,
                  ActivePause.expected_return_date, ActivePause.reason)
PAUSE_RECORD_COLUMNS = (PauseRecord.id, PauseRecord.mentor, PauseRecord.start_date, PauseRecord.expected_return_date,
                        PauseRecord.end_date, PauseRecord.reason, PauseRecord.created_at)


def _join_active_pause(query, mentor=MentorStatus):
    return query.join_from(mentor, ActivePause, JOIN.LEFT_OUTER,
                           on=(ActivePause.mentor == mentor.mentor_id) & ActivePause.end_date.is_null())


# One mentor

_MENTOR_ROW = PreparedQuery(lambda db, mentor_id: _join_active_pause(
    MentorStatus.select(*MENTOR_COLUMNS)).where(MentorStatus.mentor_id == mentor_id))


def mentor_row(mentor_id):
    """The mentor as a row of `MENTOR_COLUMNS`, or None."""
    return next(iter(_MENTOR_ROW.rows(mentor_id)), None)


_LOCKED_MENTOR = PreparedQuery(lambda db, mentor_id: MentorStatus.select().where(
    MentorStatus.mentor_id == mentor_id).for_update(for_update=db.for_update))
_ACTIVE_PAUSE_OF = PreparedQuery(lambda db, mentor_id: PauseRecord.select().where(
    (PauseRecord.mentor == mentor_id) & PauseRecord.end_date.is_null()))


def locked_mentor(mentor_id):
    """Within a transaction: the mentor, locked until it ends (on SQLite, the IMMEDIATE
    transaction already holds the whole database), with its active pause; or None."""
    mentor = _LOCKED_MENTOR.first(mentor_id)
    if mentor is not None:
        # A statement of its own, after the lock: a join locked in the same statement would
        # show the pause as it was before a concurrent write we waited for.
        mentor.active_pause = _ACTIVE_PAUSE_OF.first(mentor_id)
    return mentor


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

    @classmethod
    def of(cls, status=None, is_paused=None, expected_return_before=None, overdue=None):
        return cls(None if status is None else "paused" if status == "paused" else "unpaused", is_paused,
                   expected_return_before is not None, overdue)

    @property
    def paused_only(self):
        """Every mentor listed must be paused."""
        return self.status == "paused" or self.is_paused is True or self.before or self.overdue is True

    @property
    def empty(self):
        return self.paused_only and (self.status == "unpaused" or self.is_paused is False)

    def mentor_ids(self, status, before, now):
        """The ids listed, in order: from the index of active pauses by mentor when every mentor
        listed is paused, else from the mentors' primary key, so that a page is an ordered index
        scan joined to nothing but its own rows."""
        if self.paused_only:
            conditions = [_Pause.end_date.is_null()]
            if self.before:
                conditions.append(_Pause.expected_return_date < before)
            if self.overdue is True:
                conditions.append(_Pause.expected_return_date < now)
            elif self.overdue is False:
                conditions.append(_Pause.expected_return_date.is_null() | (_Pause.expected_return_date >= now))
            if self.empty:
                conditions.append(SQL("1 = 0"))
            return _Pause.select(_Pause.mentor.alias("mentor_id")).where(*conditions).order_by(_Pause.mentor)
        conditions = []
        if self.status == "unpaused":
            conditions += [_Mentor.base_status == status, ~_active_pause_exists()]
        if self.is_paused is False:
            conditions.append(~_active_pause_exists())
        if self.overdue is False:
            conditions.append(~_active_pause_exists(_Pause.expected_return_date < now))
        query = _Mentor.select(_Mentor.mentor_id).order_by(_Mentor.mentor_id)
        return query.where(*conditions) if conditions else query

    def page(self, status, before, now, limit, offset):
        ids = self.mentor_ids(status, before, now).limit(limit).offset(offset).alias("page")
        return _join_active_pause(MentorStatus.select(*MENTOR_COLUMNS).join(
            ids, on=(MentorStatus.mentor_id == ids.c.mentor_id))).order_by(MentorStatus.mentor_id)

    def count(self, status, before, now):
        return self.mentor_ids(status, before, now).order_by().select_from(fn.COUNT(SQL("*")))

    def total(self, status, before, now):
        """The exact number of mentors listed, read from the list totals wherever they can tell it,
        so that a page costs what its own rows cost; counted only for a combination they cannot."""
        if self.empty:
            return 0
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
        return _MENTOR_TOTALS.get(self).rows(status, before, now)[0][0]


def _active_pause_exists(condition=None):
    condition = (_Pause.mentor == _Mentor.mentor_id) & _Pause.end_date.is_null() & (
        SQL("1 = 1") if condition is None else condition)
    return fn.EXISTS(_Pause.select(SQL("1")).where(condition))


_MENTOR_PAGES = PreparedByShape(lambda shape, *keys: shape.page(*keys), keys=5)
_MENTOR_TOTALS = PreparedByShape(lambda shape, *keys: shape.count(*keys), keys=3)


def mentor_page(page, limit, now, **filters):
    """A page of mentors in byte order of mentor_id, filtered by whatever is given, as rows of
    `MENTOR_COLUMNS`, and the exact total. Overdue: paused, and expected back before `now`.
    A page past the end is empty without asking the database to skip `total` rows."""
    shape = MentorListShape.of(**filters)
    keys = (filters.get("status"), filters.get("expected_return_before"), now)
    total = shape.total(*keys)
    if (page - 1) * limit >= total:
        return [], total
    return _MENTOR_PAGES.get(shape).rows(*keys, limit, (page - 1) * limit), total


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

def pause_records(mentor_id=None, is_active=None, reason=None, columns=()):
    """Pause records in sequence order, filtered by whatever is given."""
    query = PauseRecord.select(*columns).order_by(PauseRecord.id)
    if mentor_id is not None:
        query = query.where(PauseRecord.mentor == mentor_id)
    if is_active is not None:
        query = query.where(PauseRecord.end_date.is_null(is_active))
    if reason is not None:
        query = query.where(PauseRecord.reason == reason)
    return query


def pauses_due_to_end(now):
    """Active pauses whose expected return date has passed."""
    return pause_records(is_active=True).where(PauseRecord.expected_return_date < now)


def _pause_record_listing(shape, mentor_id, reason, columns):
    has_mentor, is_active, has_reason = shape
    return pause_records(mentor_id if has_mentor else None, is_active, reason if has_reason else None,
                         columns=columns)


_PAUSE_RECORD_PAGES = PreparedByShape(lambda shape, mentor_id, reason, limit, offset: _pause_record_listing(
    shape, mentor_id, reason, PAUSE_RECORD_COLUMNS).limit(limit).offset(offset), keys=4)
_PAUSE_RECORD_TOTALS = PreparedByShape(lambda shape, mentor_id, reason: _pause_record_listing(
    shape, mentor_id, reason, (fn.COUNT(SQL("*")),)).order_by(), keys=2)


def pause_record_page(page, limit, mentor_id=None, is_active=None, reason=None):
    """A page of `pause_records(...)` as rows of `PAUSE_RECORD_COLUMNS`, and the exact total: read
    from the list totals when at most is_active filters it, else counted."""
    shape = (mentor_id is not None, is_active, reason is not None)
    if mentor_id is None and reason is None:
        states = ("active", "ended") if is_active is None else ("active" if is_active else "ended",)
        total = totals.sum_of(*(f"pauses_{state}" for state in states))
    else:
        total = _PAUSE_RECORD_TOTALS.get(shape).rows(mentor_id, reason)[0][0]
    if (page - 1) * limit >= total:
        return [], total
    return _PAUSE_RECORD_PAGES.get(shape).rows(mentor_id, reason, limit, (page - 1) * limit), total
