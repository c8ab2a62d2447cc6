"""Every write of mentor statuses and pause records, with the rules that tie the two together; both
blueprints and the CLI jobs call these (and reads.py for what they read).

A mentor is paused exactly while it has an active pause record (state `active`), and its pause
fields are that record's: `MentorStatus` derives them, so the two can never disagree. What the
rules below decide is which record opens, changes or closes, and what the mentor becomes after.
Every write is one transaction that first locks the mentor row (SELECT ... FOR UPDATE on
PostgreSQL; SQLite's IMMEDIATE transactions hold the whole database), and the partial unique
index `pause_record_one_active_per_mentor` backs the one-active-pause rule. Each write ends by
updating the list totals and appending its change entries.

Pauses over time: a write gives a pause the state its dates give now (moments.py), and
moment_rules.py applies, as a write would, each moment that falls due later.
"""
from contextlib import nullcontext

from peewee import IntegrityError

from ..changes.log import WriteRecord
from ..db import checkpoint_after_erasure, database, utc_now
from ..errors import Conflict, Invalid, InvalidRows, NotFound
from . import bulk_writes, lookups, moments, pause_record_lists, reason_totals, steps, totals
from .models import PAUSE_STATES, MentorStatus, PauseRecord
from .totals import TotalsMoved

# Mentor statuses

def create_mentor_status(fields):
    """Create a mentor; if it starts paused, open its pause record too. 409 if the id exists."""
    now = utc_now()
    with database.atomic():
        mentor = MentorStatus(mentor_id=fields["mentor_id"], base_status="active", created_at=now)
        pause = steps.apply_to_mentor(mentor, fields, now, current_status=None)
        mentor.last_updated = now
        try:
            lookups.insert_mentor(mentor)
        except IntegrityError:
            raise Conflict(f"A mentor status with mentor_id {mentor.mentor_id!r} already exists.") from None
        steps.save_pause(pause)
        steps.record_moves(None, mentor, reasons=(None, steps.reason_of(pause)))
        WriteRecord().append(mentor, pause)
    return mentor


def update_mentor_status(mentor_id, sent, precondition=None):
    """Change the fields `sent`. Becoming paused opens a pause record, changing pause fields
    changes it, and leaving `paused` closes it."""
    now = utc_now()
    with database.atomic():
        mentor = lookups.lock_mentor(mentor_id, precondition)
        record = WriteRecord()
        record.note(mentor, mentor.active_pause)
        before, reason_before = mentor.status, steps.reason_of(mentor.active_pause)
        pause = steps.apply_to_mentor(mentor, sent, now, current_status=before)
        if not record.changed(mentor):
            return mentor  # nothing changed: last_updated and the ETag stay
        mentor.last_updated = now
        mentor.save()
        steps.save_pause(pause)
        steps.record_moves(before, mentor, reasons=(reason_before, steps.reason_of(pause)))
        record.append(mentor, pause)
    return mentor


def delete_mentor_status(mentor_id, precondition=None):
    """Delete a mentor and every pause record it has, and erase its change entries."""
    with database.atomic():
        mentor = lookups.lock_mentor(mentor_id, precondition)
        record = WriteRecord()
        record.erase_mentor(mentor_id, [pause.pause_record_id for pause in PauseRecord.select(
            PauseRecord.id).where(PauseRecord.mentor == mentor_id)])
        by_state = dict(lookups.pause_states_of(mentor_id))
        by_reason = list(reason_totals.of_mentor(mentor_id))
        PauseRecord.delete().where(PauseRecord.mentor == mentor_id).execute()
        MentorStatus.delete().where(MentorStatus.mentor_id == mentor_id).execute()
        moved = TotalsMoved()
        moved.mentor(mentor.status, None)
        for state in PAUSE_STATES:
            moved.pause(state, None, count=by_state.get(state, 0))
        for reason, count in by_reason:
            moved.reason(reason, None, count=count)
        totals.add(moved)
        record.append()
    checkpoint_after_erasure()  # outside the transaction: only committed data can be checkpointed


def import_mentor_statuses(rows, mode="create", dry_run=False, errors=None):
    """Load many mentors in one transaction, each row as a single write would make it: with mode
    "create" every row creates its mentor (an existing mentor_id is that row's error), with
    "upsert" an existing mentor is updated with the fields sent, as a PUT. Becoming paused opens a
    pause record and leaving `paused` closes it, as `create_mentor_status` and
    `update_mentor_status` decide it; each mentor and pause created or changed gets its change
    entries. All or nothing: every row that breaks a rule is listed (InvalidRows, beside the
    `errors` {row number: field errors} found before) and nothing is written; with `dry_run`,
    nothing is written either. `rows`: (row number, fields as MentorStatusCreateSchema loads them),
    their mentor_ids distinct. Returns {"rows", "created", "updated", "unchanged"}."""
    now, errors = utc_now(), dict(errors or {})
    counts = {"rows": len(rows) + len(errors), "created": 0, "updated": 0, "unchanged": 0}
    created, updated, written, moved = [], [], [], TotalsMoved()
    with database.atomic():
        existing = lookups.locked_mentors(fields["mentor_id"] for _, fields in rows)
        record = WriteRecord()
        for number, fields in rows:
            mentor = existing.get(fields["mentor_id"])
            try:
                reason_before = steps.reason_of(mentor and mentor.active_pause)
                if mentor is None:
                    mentor, before = MentorStatus(mentor_id=fields["mentor_id"], base_status="active",
                                                  created_at=now), None
                    pause = steps.apply_to_mentor(mentor, fields, now, current_status=None)
                elif mode == "create":
                    raise Invalid(mentor_id=f"A mentor status with mentor_id {mentor.mentor_id!r} already exists.")
                else:
                    record.note(mentor, mentor.active_pause)
                    before = mentor.status
                    pause = steps.apply_to_mentor(mentor, {name: value for name, value in fields.items()
                                                      if name != "mentor_id"}, now, current_status=before)
            except Invalid as error:
                errors[number] = error.errors["json"]
                continue
            if before is not None and not record.changed(mentor):
                counts["unchanged"] += 1
                continue
            mentor.last_updated = now
            (created if before is None else updated).append(mentor)
            written.append((mentor, pause))
            moved.update(steps.moves(before, mentor, reasons=(reason_before, steps.reason_of(pause))))
        if errors:
            raise InvalidRows(errors)
        counts.update(created=len(created), updated=len(updated))
        if dry_run:
            return counts
        try:
            bulk_writes.insert_mentors(created)
        except IntegrityError:
            raise Conflict("A mentor of this load was created by another request meanwhile: nothing was written; "
                           "load again.") from None
        bulk_writes.update_mentors(updated)
        pauses = [pause for _, pause in written if pause is not None]
        bulk_writes.insert_pauses([pause for pause in pauses if pause.id is None])
        bulk_writes.update_pauses([pause for pause in pauses if pause.id is not None])
        totals.add(moved)
        record.append(*(resource for pair in written for resource in pair))
    return counts


# Pause records

def create_pause_record(fields):
    """Record a pause in the state its dates give: active (the mentor becomes paused; 409 if another
    pause of it is active), scheduled (a start_date later than now: nothing else changes until
    then) or ended (an end_date not later than now, or is_active false: a past pause). A scheduled
    or active pause must not overlap another of the mentor's (409 naming it)."""
    now = utc_now()
    with database.atomic():
        mentor = lookups.lock_mentor(fields["mentor_id"], missing=Invalid(
            mentor_id=f"No mentor status has mentor_id {fields['mentor_id']!r}."))
        record = PauseRecord(mentor=mentor.mentor_id, start_date=fields.get("start_date") or now,
                             expected_return_date=fields.get("expected_return_date"),
                             reason=fields.get("reason"), created_at=now)
        steps.check_is_active(fields, now)
        if "is_active" in fields and record.start_date > now:
            raise Invalid(is_active="A pause whose start_date is later than now is scheduled: leave is_active out.")
        if fields.get("end_date") is not None or fields.get("is_active") is False:
            record.end_date = fields.get("end_date") or max(now, record.start_date)
        steps.check_dates(record, sent=fields)
        moments.settle(record, now, moments.settings(), dates_set=True)
        write = WriteRecord()
        write.note(mentor)
        before = mentor.status
        if record.is_active and mentor.active_pause:
            raise steps.already_paused(mentor.mentor_id, mentor.active_pause)
        if record.state != "ended":
            steps.check_overlaps(record, now)
        if record.is_active:
            mentor.last_updated = now
            mentor.save()
            mentor.active_pause = record
        steps.save_pause(record)
        steps.record_moves(before, mentor, pause=(None, record.state), reasons=(None, record.reason))
        write.append(record, mentor)
    return record


def update_pause_record(pause_record_id, sent, precondition=None):
    """Change what was sent, and move the pause to the state its dates then give, with the same
    effect on its mentor as at a moment. Closing (is_active false, or an end_date not later than
    now) resumes the mentor if the record was its active pause; reopening (is_active true, or an
    end_date null or later than now on an ended pause) pauses the mentor again (409 if it has
    another); a start_date later than now schedules it again. On a scheduled pause is_active is a
    409: its start_date says when it begins."""
    now = utc_now()
    with database.atomic():
        mentor, record = lookups.lock_pause_record(pause_record_id, precondition)
        if record.state == "scheduled" and "is_active" in sent:
            raise Conflict(f"Pause record {record.pause_record_id} is scheduled: it begins at its start_date. "
                           "Change start_date to begin it earlier, or delete the pause instead.")
        steps.check_is_active(sent, now)
        write = WriteRecord()
        write.note(record, mentor)
        before, state_before, was_active, reason_before = mentor.status, record.state, record.is_active, record.reason
        for name in ("start_date", "expected_return_date", "reason"):
            if name in sent:
                setattr(record, name, sent[name])
        if sent.get("is_active") is False:
            # Closing a closed pause again keeps its end; an active one ends now, even if it would later.
            ended_already = record.end_date is not None and record.end_date <= now
            record.end_date = sent.get("end_date") or (
                record.end_date if ended_already else max(now, record.start_date))
        elif sent.get("is_active") is True or ("end_date" in sent and sent["end_date"] is None):
            record.end_date = sent.get("end_date")  # null, or later than now (steps.check_is_active)
        elif "end_date" in sent:
            record.end_date = sent["end_date"]
        steps.check_dates(record, sent=sent)
        moments.settle(record, now, moments.settings(),
                             dates_set=any(name in sent for name in steps.PAUSE_DATE_FIELDS))
        if not write.changed(record):
            return record  # nothing changed: the mentor's last_updated stays
        if record.is_active and not was_active and mentor.active_pause:
            raise steps.already_paused(mentor.mentor_id, mentor.active_pause)
        if record.state != "ended":
            steps.check_overlaps(record, now)
        steps.save_pause(record)
        if was_active or record.is_active:
            after_active_pause_changed(mentor, record, now)
        steps.record_moves(before, mentor, pause=(state_before, record.state), reasons=(reason_before, record.reason))
        write.append(record, mentor)
    return record


def delete_pause_record(pause_record_id, precondition=None):
    """Delete a pause record; deleting the active one resumes the mentor."""
    now = utc_now()
    with database.atomic():
        mentor, record = lookups.lock_pause_record(pause_record_id, precondition)
        write = WriteRecord()
        write.note(record, mentor)
        before = mentor.status
        record.delete_instance()
        if record.is_active:
            after_active_pause_changed(mentor, None, now)
        steps.record_moves(before, mentor, pause=(record.state, None), reasons=(record.reason, None))
        write.append(mentor, deleted=[record])


def resume_due_pauses(dry_run=False, around_each=None):
    """End every active pause whose expected return date has passed: the record closes at that
    date and the mentor becomes active. Returns the records ended (with dry_run, that would be).
    `around_each(record)`, a context manager, encloses each one's transaction (a trace's span)."""
    now = utc_now()
    due = list(pause_record_lists.pauses_due_to_end(now))
    if dry_run:
        return due
    ended = []
    for candidate in due:
        with around_each(candidate) if around_each else nullcontext(), database.atomic():
            try:
                mentor, record = lookups.lock_pause_record(candidate.pause_record_id)
            except NotFound:  # deleted since the list was read
                continue
            if record.is_active and record.expected_return_date is not None and record.expected_return_date < now:
                write = WriteRecord()
                write.note(record, mentor)
                before = mentor.status
                record.end_date = record.expected_return_date
                record.state, record.next_moment_at = "ended", None
                record.save()
                after_active_pause_changed(mentor, record, now)
                steps.record_moves(before, mentor, pause=("active", "ended"))
                write.append(record, mentor)
                ended.append(record)
    return ended


# The rule that ties the two resources

def after_active_pause_changed(mentor, record, now):
    """The rule that ties a mentor to its pause: `record`, the mentor's active pause before or after
    this write, changed. Closed, ended or deleted (None): the mentor becomes `active`, its pause fields
    null. Still active: the mentor is paused with its fields."""
    if record is None or not record.is_active:
        mentor.base_status = "active"
        mentor.active_pause = None
    else:
        mentor.active_pause = record
    mentor.last_updated = now
    mentor.save()
