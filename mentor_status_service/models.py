"""Mentor statuses and pause records as stored, and the queries that read them. No Flask here."""
import datetime as dt
import json
import re
from collections import Counter
from typing import NamedTuple

from peewee import (
    JOIN,
    SQL,
    BigAutoField,
    BigIntegerField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
    fn,
)

from .db import database, is_postgresql
from .prepared import PreparedQuery

MENTOR_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$"
REASON_CODE_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
STATUSES = ("active", "paused", "inactive")
PAUSE_RECORD_ID_PREFIX = "pause-rec-"
_PAUSE_RECORD_ID = re.compile(r"pause-rec-([1-9][0-9]{3,}|0[0-9]{3})")
_LARGEST_PAUSE_RECORD_NUMBER = 2**63 - 1  # a BIGINT
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def storable_json(value):
    """Compact JSON of `value`, as UTF-8 with no needless `\\u` escapes (the size it was checked at),
    but for what a database cannot store: NUL (json escapes it) and lone surrogates (PostgreSQL
    text must be valid UTF-8)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return _LONE_SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def utc_now():
    """Naive UTC, to the second: the precision the API stores and returns."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False
        only_save_dirty = True  # an UPDATE names only the columns a write changed

    def save(self, force_insert=False, only=None):
        """As Peewee's `save()` (an INSERT of a row without its key, else an UPDATE of the columns
        changed), with the SQL of each kind of INSERT or UPDATE built once. The columns stay marked
        changed: saving the same instance again in a write would send them again, to the same values."""
        if force_insert or only is not None:
            return super().save(force_insert=force_insert, only=only)
        key = self._meta.primary_key
        if self.get_id() is None:
            names = tuple(field.name for field in self._meta.sorted_fields if field is not key)
            row = _INSERTS.get((type(self), names)).execute(*self._db_values(names)).fetchone()
            setattr(self, key.name, row[0])
            return 1
        names = tuple(sorted(field.name for field in self.dirty_fields if field is not key))
        if not names:
            return False
        return _UPDATES.get((type(self), names)).execute(*self._db_values(names), self.get_id()).rowcount

    def _db_values(self, names):
        """The values of fields `names` as the database takes them (a foreign key's id, never its row)."""
        fields = [self._meta.fields[name] for name in names]
        return [field.db_value(getattr(self, field.object_id_name if isinstance(field, ForeignKeyField) else
                                       field.name)) for field in fields]


class MentorStatus(BaseModel):
    """A mentor. Whether it is paused is not stored here: it is paused exactly while it has an
    active pause record (the `active_pause` joined by `with_active_pause`), and its pause fields
    are that record's. `base_status` is its status whenever it is not paused."""

    mentor_id = TextField(primary_key=True)
    base_status = CharField(max_length=8)
    metadata_json = TextField(column_name="metadata", default="{}")
    created_at = DateTimeField()
    last_updated = DateTimeField()
    active_pause = None  # set by with_active_pause(), or by the rules in pausing.py

    INSERTED_FIELDS = ("mentor_id", "base_status", "metadata_json", "created_at", "last_updated")

    def insert_new(self):
        """INSERT this new mentor (as `save(force_insert=True)` would); IntegrityError if its id exists."""
        _INSERT_MENTOR.execute(*(getattr(self, name) for name in self.INSERTED_FIELDS))

    @classmethod
    def with_active_pause(cls):
        return cls.select(cls, ActivePause).join(
            ActivePause, JOIN.LEFT_OUTER,
            on=(ActivePause.mentor == cls.mentor_id) & ActivePause.end_date.is_null(), attr="active_pause")

    @classmethod
    def row_by_id(cls, mentor_id):
        """The mentor as a row of `LISTING_COLUMNS`, or None."""
        return next(iter(_MENTOR_ROW.rows(mentor_id)), None)

    @classmethod
    def locked_with_active_pause(cls, mentor_id):
        """Within a transaction: the mentor, locked until it ends (on SQLite, the IMMEDIATE
        transaction already holds the whole database), with its active pause."""
        mentor = _LOCKED_MENTOR.first(mentor_id)
        if mentor is not None:
            # A statement of its own, after the lock: a join locked in the same statement would
            # show the pause as it was before a concurrent write we waited for.
            mentor.active_pause = _ACTIVE_PAUSE_OF.first(mentor_id)
        return mentor

    @classmethod
    def page(cls, page, limit, now, **filters):
        """A page of mentors in byte order of mentor_id, filtered by whatever is given, as rows of
        `LISTING_COLUMNS`, and the exact total. Overdue: paused, and expected back before `now`.
        A page past the end is empty without asking the database to skip `total` rows."""
        shape = _MentorListShape.of(**filters)
        keys = (filters.get("status"), filters.get("expected_return_before"), now)
        total = shape.total(keys)
        if (page - 1) * limit >= total:
            return [], total
        return _MENTOR_PAGES.get(shape).rows(*keys, limit, (page - 1) * limit), total

    @property
    def status(self):
        return "paused" if self.active_pause else self.base_status

    @property
    def is_paused(self):
        return self.active_pause is not None

    @property
    def pause_start_date(self):
        return self.active_pause.start_date if self.active_pause else None

    @property
    def expected_return_date(self):
        return self.active_pause.expected_return_date if self.active_pause else None

    @property
    def pause_reason(self):
        return self.active_pause.reason if self.active_pause else None

    @property
    def metadata(self):
        return json.loads(self.metadata_json)

    @metadata.setter
    def metadata(self, value):
        self.metadata_json = storable_json(value)


class PauseRecord(BaseModel):
    """One pause of a mentor: active while `end_date` is null."""

    id = BigAutoField()
    mentor = ForeignKeyField(MentorStatus, field=MentorStatus.mentor_id, column_name="mentor_id",
                             backref="pause_records")
    start_date = DateTimeField()
    expected_return_date = DateTimeField(null=True)
    end_date = DateTimeField(null=True)
    reason = TextField(null=True)
    created_at = DateTimeField()

    @property
    def pause_record_id(self):
        return f"{PAUSE_RECORD_ID_PREFIX}{self.id:04d}"

    @property
    def is_active(self):
        return self.end_date is None

    @property
    def state(self):
        return "active" if self.end_date is None else "ended"

    @classmethod
    def by_number(cls, number):
        return _PAUSE_RECORD_BY_NUMBER.first(number)

    @classmethod
    def row_by_number(cls, number):
        """The record as a row of `LISTING_COLUMNS`, or None."""
        return next(iter(_PAUSE_RECORD_ROW.rows(number)), None)

    @classmethod
    def due_to_end(cls, now):
        """Active pauses whose expected return date has passed."""
        return cls.listing(is_active=True).where(cls.expected_return_date < now)

    @classmethod
    def listing(cls, mentor_id=None, is_active=None, reason=None, columns=()):
        """Pause records in sequence order, filtered by whatever is given."""
        query = cls.select(*columns).order_by(cls.id)
        if mentor_id is not None:
            query = query.where(cls.mentor == mentor_id)
        if is_active is not None:
            query = query.where(cls.end_date.is_null(is_active))
        if reason is not None:
            query = query.where(cls.reason == reason)
        return query

    @classmethod
    def page(cls, page, limit, mentor_id=None, is_active=None, reason=None):
        """A page of `listing(...)` as rows of `LISTING_COLUMNS`, and the exact total: read from
        ListTotals when at most is_active filters it, else counted."""
        shape = (mentor_id is not None, is_active, reason is not None)
        if mentor_id is None and reason is None:
            states = ("active", "ended") if is_active is None else ("active" if is_active else "ended",)
            total = ListTotals.sum_of(*(f"pauses_{state}" for state in states))
        else:
            total = _PAUSE_RECORD_TOTALS.get(shape).rows(mentor_id, reason)[0][0]
        if (page - 1) * limit >= total:
            return [], total
        return _PAUSE_RECORD_PAGES.get(shape).rows(mentor_id, reason, limit, (page - 1) * limit), total

    @staticmethod
    def number_from_public_id(pause_record_id):
        """The sequence number in an id written exactly as the server writes it, else None."""
        match = _PAUSE_RECORD_ID.fullmatch(pause_record_id)
        if match is None or len(match.group(1)) > 19 or int(match.group(1)) > _LARGEST_PAUSE_RECORD_NUMBER:
            return None
        return int(match.group(1))


class MissingListTotals(RuntimeError):
    pass


class ListTotals(BaseModel):
    """One row: how many rows the unfiltered and the single-filter lists have, kept exact by every
    write in its own transaction (see `TotalsMoved`), so that a list page never counts a table.
    A paused mentor is counted once, as its active pause; `mentors_*` count the mentors not paused.
    One row, so a write updates it in one statement that can never deadlock with another."""

    id = IntegerField(primary_key=True)
    mentors_active = BigIntegerField()
    mentors_inactive = BigIntegerField()
    pauses_active = BigIntegerField()
    pauses_ended = BigIntegerField()

    ROW_ID = 1
    NAMES = ("mentors_active", "mentors_inactive", "pauses_active", "pauses_ended")
    UNPAUSED_MENTORS_SQL = ("SELECT COUNT(*) FROM mentor_status m WHERE base_status = '{}' AND NOT EXISTS "
                            "(SELECT 1 FROM pause_record p WHERE p.mentor_id = m.mentor_id AND p.end_date IS NULL)")
    COUNTS_SQL = (UNPAUSED_MENTORS_SQL.format("active"), UNPAUSED_MENTORS_SQL.format("inactive"),
                  "SELECT COUNT(*) FROM pause_record WHERE end_date IS NULL",
                  "SELECT COUNT(*) FROM pause_record WHERE end_date IS NOT NULL")

    @classmethod
    def recount(cls, db=database):
        """Count every total again from the tables (after a restore or a bulk load by SQL), exactly,
        while writes go on; returns the totals.

        The row is locked first (SQLite's IMMEDIATE transaction locks the whole database), so the
        count runs after every write that updated it before has committed, and every write that
        comes later waits at its own update of the row, which it makes last, and adds its change to
        the recounted totals. The row is updated in place: a write never finds it missing.
        """
        counts = ", ".join(f"{name} = ({sql})" for name, sql in zip(cls.NAMES, cls.COUNTS_SQL))
        with db.atomic():
            if is_postgresql(db):
                # Counting a large table may outlast the timeout meant for the requests' statements.
                db.execute_sql("SET LOCAL statement_timeout = 0")
            exists = db.execute_sql(f"SELECT id FROM list_totals WHERE id = {cls.ROW_ID} "
                                    f"{'FOR UPDATE' if db.for_update else ''}").fetchone()
            if exists:
                db.execute_sql(f"UPDATE list_totals SET {counts} WHERE id = {cls.ROW_ID}")
            else:
                selects = ", ".join(f"({sql})" for sql in cls.COUNTS_SQL)
                db.execute_sql(f"INSERT INTO list_totals (id, {', '.join(cls.NAMES)}) SELECT {cls.ROW_ID}, {selects}")
            row = db.execute_sql(f"SELECT {', '.join(cls.NAMES)} FROM list_totals WHERE id = {cls.ROW_ID}").fetchone()
        return dict(zip(cls.NAMES, row))

    @classmethod
    def sum_of(cls, *names):
        totals = _LIST_TOTALS.first(cls.ROW_ID)
        if totals is None:
            raise MissingListTotals("list_totals has no row: run `flask --app wsgi db upgrade`")
        return sum(getattr(totals, name) for name in names)

    # How many entries of each side `due_before` reads, round after round, at most.
    DUE_BOUNDS = (256, 16_384, 2**62)

    @classmethod
    def due_before(cls, moment):
        """How many active pauses are expected back before `moment`, and the totals row (a dict)
        read in the same statement. Counted along the index of active pauses by expected return
        date from both sides at once, the pauses due and the others (whose count gives the due ones
        as `pauses_active` minus it), each side read to at most a bound that grows round after
        round: the cost follows the smaller side, not the number of pauses."""
        db = database.obj
        for bound in cls.DUE_BOUNDS:
            cursor = db.execute_sql(_due_before_sql(db.param), (moment, bound, moment, bound, bound, cls.ROW_ID))
            due, later, open_ended, *totals = cursor.fetchone() or (None,) * 7
            if due is None:
                raise MissingListTotals("list_totals has no row: run `flask --app wsgi db upgrade`")
            totals = dict(zip(("pauses_active", "mentors_active", "mentors_inactive"), totals))
            if due < bound:
                return due, totals
            if later < bound and open_ended < bound:
                return totals["pauses_active"] - later - open_ended, totals
        raise AssertionError("the last bound is larger than any table")

    @classmethod
    def add(cls, moved):
        """Apply `moved` ({column: delta}) in one statement."""
        names = tuple(sorted(name for name, delta in moved.items() if delta))
        if names and _ADD_TO_TOTALS.get(names).execute(*(moved[name] for name in names), cls.ROW_ID).rowcount != 1:
            raise MissingListTotals("list_totals has no row: run `flask --app wsgi db upgrade`")


class TotalsMoved(Counter):
    """What one write moves between the list totals; `ListTotals.add(moved)` records it."""

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


class ChangeEntry(BaseModel):
    """One resource changed by one write, as the API showed it before and shows it after."""

    change_id = BigIntegerField(primary_key=True)
    at = DateTimeField()
    actor = TextField()
    request_id = TextField()
    resource = CharField(max_length=16)
    resource_id = TextField()
    mentor_id = TextField()
    event = CharField(max_length=8)
    before_json = TextField(column_name="before_state", null=True)
    after_json = TextField(column_name="after_state", null=True)

    RESOURCES = ("mentor_status", "pause_record")
    # What a read of the log returns, in this order (rendering.change_entry_row reads them).
    READ_COLUMNS = ("change_id", "at", "actor", "request_id", "resource", "resource_id", "mentor_id", "event",
                    "before_json", "after_json")

    # What ChangeEntrySchema dumps, beside the columns.
    @property
    def id(self):
        return self.resource_id

    @property
    def before(self):
        return None if self.before_json is None else json.loads(self.before_json)

    @property
    def after(self):
        return None if self.after_json is None else json.loads(self.after_json)

    @classmethod
    def of_mentor(cls, mentor_id, columns=()):
        """Every entry about `mentor_id`, both resources, newest first."""
        return cls.select(*columns).where(cls.mentor_id == mentor_id).order_by(cls.change_id.desc())

    @classmethod
    def history_page(cls, mentor_id, page, limit):
        """A page of `of_mentor(mentor_id)` as rows of `READ_COLUMNS`, and the exact total."""
        total = _HISTORY_TOTAL.rows(mentor_id)[0][0]
        if (page - 1) * limit >= total:
            return [], total
        return _HISTORY_PAGE.rows(mentor_id, limit, (page - 1) * limit), total

    @classmethod
    def feed(cls, after, resource=None, mentor_id=None, columns=()):
        """Entries past change `after`, oldest first, filtered by whatever is given."""
        query = cls.select(*columns).where(cls.change_id > after).order_by(cls.change_id)
        if resource is not None:
            query = query.where(cls.resource == resource)
        if mentor_id is not None:
            query = query.where(cls.mentor_id == mentor_id)
        return query

    @classmethod
    def append(cls, rows):
        """INSERT `rows`, each of values for `READ_COLUMNS`, in one statement."""
        _INSERT_ENTRIES.get(len(rows)).execute(*(value for row in rows for value in row))

    @classmethod
    def feed_rows(cls, after, limit, resource=None, mentor_id=None):
        """Up to `limit` rows of `feed(...)`, as rows of `READ_COLUMNS`."""
        return _FEED.get((resource is not None, mentor_id is not None)).rows(after, resource, mentor_id, limit)


class ChangeLogHead(BaseModel):
    """One row: the last change_id handed out, and the highest one ever pruned."""

    id = IntegerField(primary_key=True)
    last_change_id = BigIntegerField()
    pruned_through = BigIntegerField()

    ROW_ID = 1

    @classmethod
    def read(cls):
        return _CHANGE_LOG_HEAD.first(cls.ROW_ID)

    @classmethod
    def hand_out(cls, count):
        """The last of the next `count` change ids, taken from the head row, which stays locked
        until this transaction ends."""
        return _HAND_OUT_CHANGE_IDS.execute(count, cls.ROW_ID).fetchone()[0]


ActivePause = PauseRecord.alias("active_pause")
_Mentor = MentorStatus.alias("m")
_Pause = PauseRecord.alias("p")
MentorStatus.LISTING_COLUMNS = (MentorStatus.mentor_id, MentorStatus.base_status, MentorStatus.metadata_json,
                                MentorStatus.created_at, MentorStatus.last_updated, ActivePause.id,
                                ActivePause.start_date, ActivePause.expected_return_date, ActivePause.reason)
PauseRecord.LISTING_COLUMNS = (PauseRecord.id, PauseRecord.mentor, PauseRecord.start_date,
                               PauseRecord.expected_return_date, PauseRecord.end_date, PauseRecord.reason,
                               PauseRecord.created_at)


def _due_before_sql(param):
    def side(condition):
        return (f"(SELECT COUNT(*) FROM (SELECT 1 FROM pause_record WHERE end_date IS NULL AND {condition} "
                f"LIMIT {param}) AS side)")

    return (f"SELECT {side(f'expected_return_date < {param}')}, {side(f'expected_return_date >= {param}')}, "
            f"{side('expected_return_date IS NULL')}, pauses_active, mentors_active, mentors_inactive "
            f"FROM list_totals WHERE id = {param}")


class _MentorListShape(NamedTuple):
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
        return (MentorStatus.select(*MentorStatus.LISTING_COLUMNS)
                .join(ids, on=(MentorStatus.mentor_id == ids.c.mentor_id))
                .join_from(MentorStatus, ActivePause, JOIN.LEFT_OUTER,
                           on=(ActivePause.mentor == MentorStatus.mentor_id) & ActivePause.end_date.is_null())
                .order_by(MentorStatus.mentor_id))

    def count(self, status, before, now):
        return self.mentor_ids(status, before, now).order_by().select_from(fn.COUNT(SQL("*")))

    def total(self, keys):
        """The exact number of mentors listed: from the list totals where they tell it, else
        from the active pauses counted by expected return date, else counted."""
        status, before, now = keys
        if self.empty:
            return 0
        if self.paused_only and self.overdue is not False:
            if not self.before and self.overdue is None:
                return ListTotals.sum_of("pauses_active")
            return ListTotals.due_before(min(before, now) if self.before and self.overdue else before or now)[0]
        if self.paused_only and not self.before and self.status != "unpaused":  # paused, and not overdue
            due, totals = ListTotals.due_before(now)
            return totals["pauses_active"] - due
        if not self.paused_only:
            statuses = {"active", "inactive", "paused"} if status is None else {status}
            if self.is_paused is False or self.overdue is False and self.status is not None:
                statuses -= {"paused"}  # an unpaused mentor is never overdue
            if self.overdue is False and statuses == {"active", "inactive", "paused"}:
                due, totals = ListTotals.due_before(now)
                return sum(totals.values()) - due
            return ListTotals.sum_of(*(_LIST_TOTAL_OF_STATUS[each] for each in statuses)) if statuses else 0
        return _MENTOR_TOTALS.get(self).rows(*keys)[0][0]


def _active_pause_exists(condition=None):
    condition = (_Pause.mentor == _Mentor.mentor_id) & _Pause.end_date.is_null() & (
        SQL("1 = 1") if condition is None else condition)
    return fn.EXISTS(_Pause.select(SQL("1")).where(condition))


class _PreparedByShape:
    """A PreparedQuery for each shape of a query, made when first asked for. `keys`: how many it
    takes, or a function of the shape that tells."""

    def __init__(self, build, keys):
        self._build, self._keys, self._prepared = build, keys, {}

    def get(self, shape):
        if shape not in self._prepared:
            keys = self._keys(shape) if callable(self._keys) else self._keys
            self._prepared[shape] = PreparedQuery(lambda db, *keys: self._build(shape, *keys), keys=keys)
        return self._prepared[shape]


_MENTOR_PAGES = _PreparedByShape(lambda shape, *keys: shape.page(*keys), keys=5)
_MENTOR_TOTALS = _PreparedByShape(lambda shape, *keys: shape.count(*keys), keys=3)


def _pause_record_listing(shape, mentor_id, reason, columns):
    has_mentor, is_active, has_reason = shape
    return PauseRecord.listing(mentor_id if has_mentor else None, is_active, reason if has_reason else None,
                               columns=columns)


_PAUSE_RECORD_PAGES = _PreparedByShape(lambda shape, mentor_id, reason, limit, offset: _pause_record_listing(
    shape, mentor_id, reason, PauseRecord.LISTING_COLUMNS).limit(limit).offset(offset), keys=4)
_PAUSE_RECORD_TOTALS = _PreparedByShape(lambda shape, mentor_id, reason: _pause_record_listing(
    shape, mentor_id, reason, (fn.COUNT(SQL("*")),)).order_by(), keys=2)
_LOCKED_MENTOR = PreparedQuery(lambda db, mentor_id: MentorStatus.select().where(
    MentorStatus.mentor_id == mentor_id).for_update(for_update=db.for_update))
_ACTIVE_PAUSE_OF = PreparedQuery(lambda db, mentor_id: PauseRecord.select().where(
    (PauseRecord.mentor == mentor_id) & PauseRecord.end_date.is_null()))
_PAUSE_RECORD_BY_NUMBER = PreparedQuery(lambda db, number: PauseRecord.select().where(PauseRecord.id == number))
# A paused mentor is counted once, as its active pause record.
_LIST_TOTAL_OF_STATUS = {"active": "mentors_active", "inactive": "mentors_inactive", "paused": "pauses_active"}
_LIST_TOTALS = PreparedQuery(lambda db, row_id: ListTotals.select().where(ListTotals.id == row_id))

_ENTRY_COLUMNS = tuple(getattr(ChangeEntry, name) for name in ChangeEntry.READ_COLUMNS)
_HISTORY_PAGE = PreparedQuery(lambda db, mentor_id, limit, offset: ChangeEntry.of_mentor(
    mentor_id, _ENTRY_COLUMNS).limit(limit).offset(offset), keys=3)
_HISTORY_TOTAL = PreparedQuery(lambda db, mentor_id: ChangeEntry.of_mentor(
    mentor_id, (fn.COUNT(SQL("*")),)).order_by())
_FEED = _PreparedByShape(lambda shape, after, resource, mentor_id, limit: ChangeEntry.feed(
    after, resource if shape[0] else None, mentor_id if shape[1] else None, _ENTRY_COLUMNS).limit(limit), keys=4)
_CHANGE_LOG_HEAD = PreparedQuery(lambda db, row_id: ChangeLogHead.select().where(ChangeLogHead.id == row_id))
_INSERT_MENTOR = PreparedQuery(lambda db, *values: MentorStatus.insert(
    dict(zip((getattr(MentorStatus, name) for name in MentorStatus.INSERTED_FIELDS), values))), keys=5)
_ADD_TO_TOTALS = _PreparedByShape(lambda names, *keys: ListTotals.update(
    {getattr(ListTotals, name): getattr(ListTotals, name) + delta for name, delta in zip(names, keys)}).where(
    ListTotals.id == keys[-1]), keys=lambda names: len(names) + 1)
_INSERT_ENTRIES = _PreparedByShape(lambda count, *values: ChangeEntry.insert_many(
    [values[start:start + len(_ENTRY_COLUMNS)] for start in range(0, len(values), len(_ENTRY_COLUMNS))],
    fields=_ENTRY_COLUMNS), keys=lambda count: count * len(_ENTRY_COLUMNS))
_HAND_OUT_CHANGE_IDS = PreparedQuery(lambda db, count, row_id: ChangeLogHead.update(
    last_change_id=ChangeLogHead.last_change_id + count).where(ChangeLogHead.id == row_id).returning(
    ChangeLogHead.last_change_id), keys=2)
_MENTOR_ROW = PreparedQuery(lambda db, mentor_id: MentorStatus.select(*MentorStatus.LISTING_COLUMNS).join(
    ActivePause, JOIN.LEFT_OUTER, on=(ActivePause.mentor == MentorStatus.mentor_id) & ActivePause.end_date.is_null()
).where(MentorStatus.mentor_id == mentor_id))
_PAUSE_RECORD_ROW = PreparedQuery(lambda db, number: PauseRecord.select(*PauseRecord.LISTING_COLUMNS).where(
    PauseRecord.id == number))
_INSERTS = _PreparedByShape(lambda shape, *values: shape[0].insert(
    dict(zip((shape[0]._meta.fields[name] for name in shape[1]), values))).returning(shape[0]._meta.primary_key),
    keys=lambda shape: len(shape[1]))
_UPDATES = _PreparedByShape(lambda shape, *values: shape[0].update(
    dict(zip((shape[0]._meta.fields[name] for name in shape[1]), values))).where(
    shape[0]._meta.primary_key == values[-1]), keys=lambda shape: len(shape[1]) + 1)
