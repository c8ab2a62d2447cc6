"""Mentor statuses and pause records as stored, and the queries that read them. No Flask here."""
import datetime as dt
import json
import re
from collections import Counter

from peewee import (
    JOIN,
    BigAutoField,
    BigIntegerField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)

from .db import database, is_postgresql
from .prepared import PreparedSelect

MENTOR_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$"
REASON_CODE_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
STATUSES = ("active", "paused", "inactive")
PAUSE_RECORD_ID_PREFIX = "pause-rec-"
_PAUSE_RECORD_ID = re.compile(r"pause-rec-([1-9][0-9]{3,}|0[0-9]{3})")
_LARGEST_PAUSE_RECORD_NUMBER = 2**63 - 1  # a BIGINT


def utc_now():
    """Naive UTC, to the second: the precision the API stores and returns."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def page_of(query, page, limit, total):
    """One page of `query` and its exact total, in the envelope every list returns. A page past the
    end is empty without asking the database to skip `total` rows."""
    data = list(query.paginate(page, limit)) if (page - 1) * limit < total else []
    return {"data": data, "pagination": {"page": page, "limit": limit, "total": total}}


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False
        only_save_dirty = True  # an UPDATE names only the columns a write changed


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

    @classmethod
    def with_active_pause(cls):
        return cls.select(cls, ActivePause).join(
            ActivePause, JOIN.LEFT_OUTER,
            on=(ActivePause.mentor == cls.mentor_id) & ActivePause.end_date.is_null(), attr="active_pause")

    @classmethod
    def with_active_pause_by_id(cls, mentor_id):
        return _MENTOR_WITH_ACTIVE_PAUSE.first(mentor_id)

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
    def listing(cls, status=None, is_paused=None, expected_return_before=None, overdue=None, now=None):
        """Mentors with their active pause, in byte order of mentor_id, filtered by whatever is given.
        Overdue: paused, and expected back before `now`."""
        query = cls.with_active_pause().order_by(cls.mentor_id)
        if status == "paused":
            query = query.where(ActivePause.id.is_null(False))
        elif status is not None:
            query = query.where(ActivePause.id.is_null() & (cls.base_status == status))
        if is_paused is not None:
            query = query.where(ActivePause.id.is_null(not is_paused))
        if expected_return_before is not None:
            query = query.where(ActivePause.expected_return_date < expected_return_before)
        if overdue is not None:
            is_overdue = ActivePause.expected_return_date < now
            query = query.where(is_overdue if overdue else (ActivePause.expected_return_date.is_null() | ~is_overdue))
        return query

    @classmethod
    def listing_total(cls, query, status=None, is_paused=None, **other_filters):
        """The exact total of `query`, a `listing(status, is_paused, **other_filters)`: read from
        ListTotals when only status and is_paused filter it, else counted."""
        if any(value is not None for value in other_filters.values()):
            return query.order_by().count()
        statuses = set(STATUSES) if status is None else {status}
        if is_paused is not None:
            statuses &= {"paused"} if is_paused else {"active", "inactive"}
        return ListTotals.sum_of(*(_LIST_TOTAL_OF_STATUS[each] for each in statuses)) if statuses else 0

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
        # ASCII escapes keep every string storable, lone surrogates and NUL included.
        self.metadata_json = json.dumps(value, separators=(",", ":"))


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
    def due_to_end(cls, now):
        """Active pauses whose expected return date has passed."""
        return cls.listing(is_active=True).where(cls.expected_return_date < now)

    @classmethod
    def listing(cls, mentor_id=None, is_active=None, reason=None):
        """Pause records in sequence order, filtered by whatever is given."""
        query = cls.select().order_by(cls.id)
        if mentor_id is not None:
            query = query.where(cls.mentor == mentor_id)
        if is_active is not None:
            query = query.where(cls.end_date.is_null(is_active))
        if reason is not None:
            query = query.where(cls.reason == reason)
        return query

    @classmethod
    def listing_total(cls, query, mentor_id=None, is_active=None, reason=None):
        """The exact total of `query`, a `listing(mentor_id, is_active, reason)`: read from
        ListTotals when at most is_active filters it, else counted."""
        if mentor_id is not None or reason is not None:
            return query.order_by().count()
        states = ("active", "ended") if is_active is None else ("active" if is_active else "ended",)
        return ListTotals.sum_of(*(f"pauses_{state}" for state in states))

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

    @classmethod
    def add(cls, moved):
        """Apply `moved` ({column: delta}) in one statement."""
        changes = {getattr(cls, name): getattr(cls, name) + delta for name, delta in moved.items() if delta}
        if changes and cls.update(changes).where(cls.id == cls.ROW_ID).execute() != 1:
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
    def of_mentor(cls, mentor_id):
        """Every entry about `mentor_id`, both resources, newest first."""
        return cls.select().where(cls.mentor_id == mentor_id).order_by(cls.change_id.desc())

    @classmethod
    def feed(cls, after, resource=None, mentor_id=None):
        """Entries past change `after`, oldest first, filtered by whatever is given."""
        query = cls.select().where(cls.change_id > after).order_by(cls.change_id)
        if resource is not None:
            query = query.where(cls.resource == resource)
        if mentor_id is not None:
            query = query.where(cls.mentor_id == mentor_id)
        return query


class ChangeLogHead(BaseModel):
    """One row: the last change_id handed out, and the highest one ever pruned."""

    id = IntegerField(primary_key=True)
    last_change_id = BigIntegerField()
    pruned_through = BigIntegerField()

    ROW_ID = 1


ActivePause = PauseRecord.alias("active_pause")
_MENTOR_WITH_ACTIVE_PAUSE = PreparedSelect(
    lambda db, mentor_id: MentorStatus.with_active_pause().where(MentorStatus.mentor_id == mentor_id))
_LOCKED_MENTOR = PreparedSelect(lambda db, mentor_id: MentorStatus.select().where(
    MentorStatus.mentor_id == mentor_id).for_update(for_update=db.for_update))
_ACTIVE_PAUSE_OF = PreparedSelect(lambda db, mentor_id: PauseRecord.select().where(
    (PauseRecord.mentor == mentor_id) & PauseRecord.end_date.is_null()))
_PAUSE_RECORD_BY_NUMBER = PreparedSelect(lambda db, number: PauseRecord.select().where(PauseRecord.id == number))
# A paused mentor is counted once, as its active pause record.
_LIST_TOTAL_OF_STATUS = {"active": "mentors_active", "inactive": "mentors_inactive", "paused": "pauses_active"}
_LIST_TOTALS = PreparedSelect(lambda db, row_id: ListTotals.select().where(ListTotals.id == row_id))
