"""Applying pauses' moments that fell due (moments.py decides which), many in one transaction.

`apply_due_moments(numbers, now)` applies the first due moment of each of those pause records as
one transaction that holds their mentors, exactly as a write would apply each one: the mentors
are locked first (FOR UPDATE SKIP LOCKED on PostgreSQL: a mentor another transaction holds is
not waited for but left for later, so that appliers share the work rather than queue on each
other; SQLite's IMMEDIATE transaction holds the whole database), the records are read again under
those locks and only what is still due is applied, so that of two appliers only the first applies
a moment and the other finds it no longer due. What the batch changes is written a few statements
at a time (bulk_writes.py), with one delta of the list totals and one INSERT of change entries,
each moment's entries under a request id of its own as if applied alone.

- begin: the scheduled pause becomes active and its mentor paused with its fields; another pause
  of the mentor still active then (overdue) ends at this one's start_date;
- end: the active pause ends at its end_date (or, with PAUSE_AUTO_RETURN, at its expected return)
  and its mentor becomes active;
- return_due, overdue: a change entry that changes nothing, once per expected_return_date.

Only one moment per mentor is applied per batch (the earliest): a mentor's later moments are
still due after it and the next batch applies them, in order.
"""
import uuid
from typing import NamedTuple

from ..changes import log as change_log
from ..db import database, is_postgresql
from . import bulk_writes, lookups, moments, totals
from .models import MentorStatus, PauseRecord
from .totals import TotalsMoved

IDS_PER_STATEMENT = lookups.IDS_PER_STATEMENT


class Applied(NamedTuple):
    """What `apply_due_moments` did: {number: kind applied}, and the numbers whose mentor another
    transaction held (to try again later)."""
    kinds: dict
    busy: set


class _Batch:
    """What the moments of one batch change, written together at its end."""

    def __init__(self):
        self.pauses, self.mentors, self.entries, self.moved = {}, {}, [], TotalsMoved()

    def pause(self, *records):
        for record in records:
            if record is not None:
                self.pauses[record.id] = record

    def moment_entries(self, entries):
        # Each moment's entries under a request id of its own, as a job applying it alone gives them.
        request_id = uuid.uuid4().hex
        self.entries.extend(dict(entry, request_id=request_id) for entry in entries)

    def write(self):
        # Pauses that leave `active` first: a begin that supersedes another active pause of its
        # mentor must not meet that one in the one-active-pause index, whatever order rows update in.
        pauses = sorted(self.pauses.values(), key=lambda record: record.state == "active")
        leaving = [record for record in pauses if record.state != "active"]
        bulk_writes.update_pauses(leaving)
        bulk_writes.update_pauses(pauses[len(leaving):])
        bulk_writes.update_mentors(list(self.mentors.values()))
        totals.add(self.moved)
        change_log.append_entries(self.entries)


def apply_due_moments(numbers, now):
    """Apply the first moment due at `now` (the database's clock) of each of the pause records
    `numbers`, as one transaction. A record deleted, or no longer due, is left as it is."""
    config, batch, kinds, busy = moments.settings(), _Batch(), {}, set()
    with database.atomic():
        mentor_ids = {record.mentor_id for record in _records(numbers)}
        mentors = _locked_mentors_if_free(mentor_ids)
        records = sorted(_records(numbers), key=lambda record: (record.next_moment_at or now, record.id))
        busy = {record.id for record in records if record.mentor_id not in mentors}
        _attach_active_pauses(mentors, records)
        first_of_mentor = set()
        for record in records:
            if record.mentor_id not in mentors or record.mentor_id in first_of_mentor:
                continue  # held by another transaction; or a later moment of a mentor this batch moves
            if record.next_moment_at is None or record.next_moment_at > now:
                continue  # applied by another applier, or moved by a write, while we waited
            first_of_mentor.add(record.mentor_id)
            kind = _apply(record, mentors[record.mentor_id], now, config, batch)
            if kind is not None:
                kinds[record.id] = kind
        batch.write()
    return Applied(kinds, busy)


def _apply(record, mentor, now, config, batch):
    """Apply `record`'s first due moment to it and its locked `mentor`, into `batch`; its kind, or None."""
    due = moments.next_due(record, now, config)
    batch.pause(record)
    if due is None:
        # Its stored moment is not due by the settings now in force: look again when it is.
        later = moments.next_moment_at(record, config)
        record.next_moment_at = later if later is not None and later > now else None
        return None
    kind = due[1]
    if kind in moments.NOTICES:
        moments.mark_notice(record, kind)
        record.next_moment_at = moments.next_moment_at(record, config)
        batch.moment_entries([change_log.notice_entry(record, kind)])
        return kind
    write = change_log.WriteRecord()
    write.note(record, mentor)
    status_before, superseded = mentor.status, None
    if kind == moments.BEGIN:
        superseded = mentor.active_pause
        if superseded is not None:
            write.note(superseded)
            # Expected back before this pause begins, and not back: it ends where this one begins.
            superseded.end_date = max(superseded.start_date, min(superseded.end_date or record.start_date,
                                                                 record.start_date))
            superseded.state, superseded.next_moment_at = "ended", None
            batch.pause(superseded)
            batch.moved.pause("active", "ended")
        record.state = "active"
        batch.moved.pause("scheduled", "active")
        mentor.active_pause = record
    else:
        if record.end_date is None:
            record.end_date = record.expected_return_date  # PAUSE_AUTO_RETURN
        record.state = "ended"
        batch.moved.pause("active", "ended")
        mentor.base_status, mentor.active_pause = "active", None
    record.next_moment_at = moments.next_moment_at(record, config)
    mentor.last_updated = now
    batch.mentors[mentor.mentor_id] = mentor
    batch.moved.mentor(status_before, mentor.status)
    batch.moment_entries(write.entries(record, superseded, mentor))
    return kind


def _chunks(values):
    values = sorted(values)
    for start in range(0, len(values), IDS_PER_STATEMENT):
        yield values[start:start + IDS_PER_STATEMENT]


def _records(numbers):
    return [record for chunk in _chunks(numbers) for record in PauseRecord.select().where(PauseRecord.id.in_(chunk))]


def _locked_mentors_if_free(mentor_ids):
    """{mentor_id: mentor} of those of `mentor_ids` that exist and no other transaction holds, locked
    until the transaction ends, in mentor_id order (two appliers never deadlock on each other)."""
    skip_locked = "FOR UPDATE SKIP LOCKED" if is_postgresql() else False
    found = {}
    for chunk in _chunks(mentor_ids):
        query = MentorStatus.select().where(MentorStatus.mentor_id.in_(chunk)).order_by(MentorStatus.mentor_id)
        found.update((mentor.mentor_id, mentor) for mentor in query.for_update(for_update=skip_locked))
    return found


def _attach_active_pauses(mentors, records):
    """Give each locked mentor its active pause, read after the locks (as `lookups.locked_mentor`
    does), as the same instance as the batch's record when it is one of them."""
    by_number = {record.id: record for record in records}
    for mentor in mentors.values():
        mentor.active_pause = None
    for chunk in _chunks(mentors):
        for pause in PauseRecord.select().where(PauseRecord.mentor.in_(chunk) & lookups.in_state(PauseRecord,
                                                                                                  "active")):
            mentors[pause.mentor_id].active_pause = by_number.get(pause.id, pause)
