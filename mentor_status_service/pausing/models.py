"""The tables of pausing: mentor statuses, pause records, the list totals and the totals per reason,
as Peewee models. No Flask and no queries here: the reads are in queries.py, the totals'
bookkeeping in totals.py and reason_totals.py."""
import json
import re

from peewee import (
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from ..db import BaseModel

REASON_CODE_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
STATUSES = ("active", "paused", "inactive")
PAUSE_STATES = ("scheduled", "active", "ended")
# What each list can be sorted by, its default first (queries.py has their columns).
MENTOR_SORT_KEYS = ("mentor_id", "last_updated", "created_at", "pause_start_date", "expected_return_date")
PAUSE_RECORD_SORT_KEYS = ("pause_record_id", "start_date", "expected_return_date", "end_date", "created_at")
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


class MentorStatus(BaseModel):
    """A mentor. It is paused exactly while it has an active pause record (the `active_pause` that
    queries.py joins or reads), and its pause fields are that record's. `base_status` is its status
    whenever it is not paused. `paused` repeats whether it has an active pause, for the lists'
    indexes: kept by the database (migration 0014), so no write sets it and the rules read
    `active_pause`."""

    mentor_id = TextField(primary_key=True)
    base_status = CharField(max_length=8)
    metadata_json = TextField(column_name="metadata", default="{}")
    created_at = DateTimeField()
    last_updated = DateTimeField()
    paused = BooleanField(default=False)
    active_pause = None  # set by the queries of queries.py, or by the rules in rules.py

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
    """One pause of a mentor: `scheduled` until its start, `active` from then until it ends,
    `ended` after, as of the last write or moment applied to it (pause_moments.py says when each
    falls due). `next_moment_at` is when its next moment falls due, null when none will; the two
    `*_notice_for` hold the expected_return_date each notice was published (or waived) for."""

    id = BigAutoField()
    mentor = ForeignKeyField(MentorStatus, field=MentorStatus.mentor_id, column_name="mentor_id",
                             backref="pause_records")
    start_date = DateTimeField()
    expected_return_date = DateTimeField(null=True)
    end_date = DateTimeField(null=True)
    reason = TextField(null=True)
    created_at = DateTimeField()
    state = CharField(max_length=9)
    next_moment_at = DateTimeField(null=True)
    return_due_notice_for = DateTimeField(null=True)
    overdue_notice_for = DateTimeField(null=True)
    # Kept by the database (migration 0012): how many times, and when last, its dates or reason changed.
    version = IntegerField(default=0)
    modified_at = DateTimeField(null=True)

    @property
    def pause_record_id(self):
        return f"{PAUSE_RECORD_ID_PREFIX}{self.id:04d}"

    @property
    def is_active(self):
        return self.state == "active"

    @staticmethod
    def number_from_public_id(pause_record_id):
        """The sequence number in an id written exactly as the server writes it, else None."""
        match = _PAUSE_RECORD_ID.fullmatch(pause_record_id)
        if match is None or len(match.group(1)) > 19 or int(match.group(1)) > _LARGEST_PAUSE_RECORD_NUMBER:
            return None
        return int(match.group(1))


class ListTotals(BaseModel):
    """One row: how many rows the unfiltered and the single-filter lists had when the deltas were
    last folded in (totals.py). A paused mentor is counted once, as its active pause; `mentors_*`
    count the mentors not paused."""

    id = IntegerField(primary_key=True)
    mentors_active = BigIntegerField()
    mentors_inactive = BigIntegerField()
    pauses_active = BigIntegerField()
    pauses_ended = BigIntegerField()
    pauses_scheduled = BigIntegerField()

    ROW_ID = 1
    NAMES = ("mentors_active", "mentors_inactive", "pauses_active", "pauses_ended", "pauses_scheduled")


class ListTotalsDelta(BaseModel):
    """What one write moved between the list totals, until it is folded into `ListTotals`."""

    id = BigAutoField()
    mentors_active = IntegerField()
    mentors_inactive = IntegerField()
    pauses_active = IntegerField()
    pauses_ended = IntegerField()
    pauses_scheduled = IntegerField()


class ReasonTotals(BaseModel):
    """How many pause records have each reason, as of the last fold of the deltas (reason_totals.py).
    A reason is an open-ended code, so the totals are a row per reason; records without a reason
    are not counted (no list filters on them)."""

    reason = TextField(primary_key=True)
    records = BigIntegerField()


class ReasonTotalsDelta(BaseModel):
    """How many pause records of one reason one write added (or, negative, took away), until it is
    folded into `ReasonTotals`."""

    id = BigAutoField()
    reason = TextField()
    records = IntegerField()
