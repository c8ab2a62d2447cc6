"""The statements on one mentor or one pause record, by key: read as a row, read as a model, locked
for a write (NotFound when missing), or inserted; a mentor's pending pauses and its pauses counted
by state; and the columns a read returns, which rendering.py and exports.py turn into documents.
Statements are built once per database (db/sql_cache.py)."""
import re

from peewee import JOIN, SQL, fn

from ..db import PreparedQuery, database
from ..errors import no_mentor, no_pause_record
from ..web.schemas import MENTOR_ID_PATTERN
from .models import MentorStatus, PauseRecord

MENTOR_ID = re.compile(MENTOR_ID_PATTERN)  # an id that cannot exist is never sent to the database

ActivePause = PauseRecord.alias("active_pause")
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


def paused_is(table, flag):
    """`table.paused` (a mentor's) is `flag`, as a literal for the same reason as `in_state`."""
    return table.paused == SQL("TRUE" if flag else "FALSE")


def join_active_pause(query, mentor=MentorStatus):
    """`query` with each mentor joined to its active pause (`ActivePause`), if any."""
    return query.join_from(mentor, ActivePause, JOIN.LEFT_OUTER,
                           on=(ActivePause.mentor == mentor.mentor_id) & in_state(ActivePause, "active"))


# One mentor

_MENTOR_ROW = PreparedQuery(lambda db, mentor_id: join_active_pause(
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
                PauseRecord.mentor.in_(ids[start:start + IDS_PER_STATEMENT]) & in_state(PauseRecord, "active")):
            found[pause.mentor_id].active_pause = pause
    return found


INSERTED_MENTOR_FIELDS = ("mentor_id", "base_status", "metadata_json", "created_at", "last_updated")
_INSERT_MENTOR = PreparedQuery(lambda db, *values: MentorStatus.insert(
    dict(zip((getattr(MentorStatus, name) for name in INSERTED_MENTOR_FIELDS), values))),
    keys=len(INSERTED_MENTOR_FIELDS))


def insert_mentor(mentor):
    """INSERT a new mentor (as `save(force_insert=True)` would); IntegrityError if its id exists."""
    _INSERT_MENTOR.execute(*(getattr(mentor, name) for name in INSERTED_MENTOR_FIELDS))


_PENDING_PAUSES_OF = PreparedQuery(lambda db, mentor_id: PauseRecord.select().where(
    (PauseRecord.mentor == mentor_id) & (PauseRecord.state != SQL("'ended'"))).order_by(PauseRecord.id))
_PAUSE_STATES_OF = PreparedQuery(lambda db, mentor_id: PauseRecord.select(PauseRecord.state, fn.COUNT(SQL("*"))).where(
    PauseRecord.mentor == mentor_id).group_by(PauseRecord.state))


def pending_pauses_of(mentor_id):
    """The scheduled and active pauses of a mentor, as models (few: they never overlap)."""
    return _PENDING_PAUSES_OF.models(mentor_id)


def pause_states_of(mentor_id):
    """(state, how many) of a mentor's pause records."""
    return _PAUSE_STATES_OF.rows(mentor_id)


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


# Locked for a write

def lock_mentor(mentor_id, precondition=None, missing=None):
    """Within a transaction: the mentor with its active pause, locked until the transaction ends,
    once it passes `precondition` (the request's If-Match, which fails on a missing mentor too)."""
    mentor = locked_mentor(mentor_id) if MENTOR_ID.fullmatch(mentor_id) else None
    if precondition:
        precondition(mentor)
    if mentor is None:
        raise missing or no_mentor(mentor_id)
    return mentor


def lock_pause_record(pause_record_id, precondition=None):
    """Within a transaction: a pause record and its mentor, the mentor locked first as every write
    does, once the record passes `precondition`."""
    record = _pause_record_by_public_id(pause_record_id)
    if record is not None:
        mentor = lock_mentor(record.mentor_id, missing=no_pause_record(pause_record_id))
        # Read again under the lock: a concurrent write may have changed or deleted it meanwhile.
        record = _pause_record_by_public_id(pause_record_id)
    if precondition:
        precondition(record)
    if record is None:
        raise no_pause_record(pause_record_id)
    return mentor, record


def _pause_record_by_public_id(pause_record_id):
    number = PauseRecord.number_from_public_id(pause_record_id)
    return None if number is None else pause_record(number)
