"""Mentor statuses and pause records as stored, and the queries that read them. No Flask here."""
import json
import re

from peewee import JOIN, BigAutoField, CharField, DateTimeField, ForeignKeyField, Model, TextField

from .db import database

MENTOR_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$"
REASON_CODE_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
STATUSES = ("active", "paused", "inactive")
PAUSE_RECORD_ID_PREFIX = "pause-rec-"
_PAUSE_RECORD_ID = re.compile(r"pause-rec-([1-9][0-9]{3,18}|0[0-9]{3})")  # fits a BIGINT


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


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

    @staticmethod
    def number_from_public_id(pause_record_id):
        """The sequence number in an id written exactly as the server writes it, else None."""
        match = _PAUSE_RECORD_ID.fullmatch(pause_record_id)
        return int(match.group(1)) if match else None


ActivePause = PauseRecord.alias("active_pause")

