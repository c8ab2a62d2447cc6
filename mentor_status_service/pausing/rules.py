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
from . import bulk_writes, lookups, moments, queries, totals
from .models import PAUSE_STATES, MentorStatus, PauseRecord
from .totals import TotalsMoved

# A mentor's pause fields, and the fields of its active record they mirror.
MENTOR_PAUSE_FIELDS = {"pause_start_date": "start_date", "expected_return_date": "expected_return_date",
                       "pause_reason": "reason"}
_MENTOR_FIELD_OF_RECORD_FIELD = {record: mentor for mentor, record in MENTOR_PAUSE_FIELDS.items()}
PAUSE_DATE_FIELDS = ("start_date", "expected_return_date", "end_date")


# Mentor statuses

def create_mentor_status(fields):
    """Create a mentor; if it starts paused, open its pause record too. 409 if the id exists."""
    now = utc_now()
    with database.atomic():
        mentor = MentorStatus(mentor_id=fields["mentor_id"], base_status="active", created_at=now)
        pause = _apply_to_mentor(mentor, fields, now, current_status=None)
        mentor.last_updated = now
        try:
            lookups.insert_mentor(mentor)
        except IntegrityError:
            raise Conflict(f"A mentor status with mentor_id {mentor.mentor_id!r} already exists.") from None
        _save_pause(pause)
        _record_moves(None, mentor)
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
        before = mentor.status
        pause = _apply_to_mentor(mentor, sent, now, current_status=before)
        if not record.changed(mentor):
            return mentor  # nothing changed: last_updated and the ETag stay
        mentor.last_updated = now
        mentor.save()
        _save_pause(pause)
        _record_moves(before, mentor)
        record.append(mentor, pause)
    return mentor


def delete_mentor_status(mentor_id, precondition=None):
    """Delete a mentor and every pause record it has, and erase its change entries."""
    with database.atomic():
        mentor = lookups.lock_mentor(mentor_id, precondition)
        record = WriteRecord()
        record.erase_mentor(mentor_id, [pause.pause_record_id for pause in PauseRecord.select(
            PauseRecord.id).where(PauseRecord.mentor == mentor_id)])
        by_state = dict(queries.pause_states_of(mentor_id))
        PauseRecord.delete().where(PauseRecord.mentor == mentor_id).execute()
        MentorStatus.delete().where(MentorStatus.mentor_id == mentor_id).execute()
        moved = TotalsMoved()
        moved.mentor(mentor.status, None)
        for state in PAUSE_STATES:
            moved.pause(state, None, count=by_state.get(state, 0))
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
                if mentor is None:
                    mentor, before = MentorStatus(mentor_id=fields["mentor_id"], base_status="active",
                                                  created_at=now), None
                    pause = _apply_to_mentor(mentor, fields, now, current_status=None)
                elif mode == "create":
                    raise Invalid(mentor_id=f"A mentor status with mentor_id {mentor.mentor_id!r} already exists.")
                else:
                    record.note(mentor, mentor.active_pause)
                    before = mentor.status
                    pause = _apply_to_mentor(mentor, {name: value for name, value in fields.items()
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
            moved.update(_moves(before, mentor))
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


def _target_status(current, sent):
    """The status a write leads to; `current` is None on create."""
    if "status" in sent:
        return sent["status"]
    if sent.get("is_paused") is True:
        return "paused"
    if sent.get("is_paused") is False and current in (None, "paused"):
        return "active"
    return current or "active"


def _apply_to_mentor(mentor, sent, now, current_status):
    """Set the fields `sent` on the unsaved `mentor`; returns the pause record to save with it, if any."""
    target = _target_status(current_status, sent)
    if target == "paused":
        pause = _opened_or_changed_pause(mentor, sent, now)
        mentor.active_pause = pause
    else:
        for name in MENTOR_PAUSE_FIELDS:
            if sent.get(name) is not None:
                raise Invalid(**{name: f"Only a paused mentor has a {name}."})
        pause = mentor.active_pause
        if pause:
            # A pause planned to begin later ends when it begins: never before its own start.
            pause.end_date = max(now, pause.start_date)
            pause.state, pause.next_moment_at = "ended", None
            mentor.active_pause = None
        mentor.base_status = target
    if "metadata" in sent:
        mentor.metadata = sent["metadata"]
    return pause


def _opened_or_changed_pause(mentor, sent, now):
    if sent.get("pause_start_date") is not None and sent["pause_start_date"] > now:
        raise Invalid(pause_start_date="A pause that begins later than now is scheduled as a pause record "
                                       "(POST /api/v1/pause-records with that start_date), not on the mentor.")
    pause = mentor.active_pause
    beginning = pause is None
    if beginning:
        pause = PauseRecord(mentor=mentor.mentor_id, start_date=now, created_at=now, state="active")
    for mentor_field, record_field in MENTOR_PAUSE_FIELDS.items():
        if mentor_field not in sent:
            continue
        value = sent[mentor_field]
        if value is None and record_field == "start_date":
            if not beginning:
                raise Invalid(pause_start_date="A paused mentor's pause_start_date cannot be cleared.")
            continue
        setattr(pause, record_field, value)
    _check_dates(pause, sent={MENTOR_PAUSE_FIELDS[name] for name in sent if name in MENTOR_PAUSE_FIELDS},
                 public_names=_MENTOR_FIELD_OF_RECORD_FIELD)
    dates_set = beginning or any(name in sent for name in ("pause_start_date", "expected_return_date"))
    # The mentor's pause stays active, whatever its dates: only the applier or a pause-record write ends it.
    moments.settle(pause, now, moments.settings(), dates_set, state="active")
    if beginning or dates_set:
        _check_overlaps(pause, now)
    return pause


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
        _check_is_active(fields, now)
        if "is_active" in fields and record.start_date > now:
            raise Invalid(is_active="A pause whose start_date is later than now is scheduled: leave is_active out.")
        if fields.get("end_date") is not None or fields.get("is_active") is False:
            record.end_date = fields.get("end_date") or max(now, record.start_date)
        _check_dates(record, sent=fields)
        moments.settle(record, now, moments.settings(), dates_set=True)
        write = WriteRecord()
        write.note(mentor)
        before = mentor.status
        if record.is_active and mentor.active_pause:
            raise _already_paused(mentor.mentor_id, mentor.active_pause)
        if record.state != "ended":
            _check_overlaps(record, now)
        if record.is_active:
            mentor.last_updated = now
            mentor.save()
            mentor.active_pause = record
        _save_pause(record)
        _record_moves(before, mentor, pause=(None, record.state))
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
        _check_is_active(sent, now)
        write = WriteRecord()
        write.note(record, mentor)
        before, state_before, was_active = mentor.status, record.state, record.is_active
        for name in ("start_date", "expected_return_date", "reason"):
            if name in sent:
                setattr(record, name, sent[name])
        if sent.get("is_active") is False:
            # Closing a closed pause again keeps its end; an active one ends now, even if it would later.
            ended_already = record.end_date is not None and record.end_date <= now
            record.end_date = sent.get("end_date") or (
                record.end_date if ended_already else max(now, record.start_date))
        elif sent.get("is_active") is True or ("end_date" in sent and sent["end_date"] is None):
            record.end_date = sent.get("end_date")  # null, or later than now (_check_is_active)
        elif "end_date" in sent:
            record.end_date = sent["end_date"]
        _check_dates(record, sent=sent)
        moments.settle(record, now, moments.settings(),
                             dates_set=any(name in sent for name in PAUSE_DATE_FIELDS))
        if not write.changed(record):
            return record  # nothing changed: the mentor's last_updated stays
        if record.is_active and not was_active and mentor.active_pause:
            raise _already_paused(mentor.mentor_id, mentor.active_pause)
        if record.state != "ended":
            _check_overlaps(record, now)
        _save_pause(record)
        if was_active or record.is_active:
            _after_active_pause_changed(mentor, record, now)
        _record_moves(before, mentor, pause=(state_before, record.state))
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
            _after_active_pause_changed(mentor, None, now)
        _record_moves(before, mentor, pause=(record.state, None))
        write.append(mentor, deleted=[record])


def resume_due_pauses(dry_run=False, around_each=None):
    """End every active pause whose expected return date has passed: the record closes at that
    date and the mentor becomes active. Returns the records ended (with dry_run, that would be).
    `around_each(record)`, a context manager, encloses each one's transaction (a trace's span)."""
    now = utc_now()
    due = list(queries.pauses_due_to_end(now))
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
                _after_active_pause_changed(mentor, record, now)
                _record_moves(before, mentor, pause=("active", "ended"))
                write.append(record, mentor)
                ended.append(record)
    return ended


def _after_active_pause_changed(mentor, record, now):
    """`record`, the mentor's active pause before or after this write, changed (None: deleted)."""
    if record is None or not record.is_active:
        mentor.base_status = "active"
        mentor.active_pause = None
    else:
        mentor.active_pause = record
    mentor.last_updated = now
    mentor.save()


def _record_moves(status_before, mentor, pause=None):
    """Keep the list totals exact: the mentor went from `status_before` to its status now, and a pause
    record from one state to another (given, or else implied by the mentor pausing or resuming)."""
    totals.add(_moves(status_before, mentor, pause))


def _moves(status_before, mentor, pause=None):
    """What `_record_moves` records, without recording it."""
    moved = TotalsMoved()
    moved.mentor(status_before, mentor.status)
    paused_before, paused_after = status_before == "paused", mentor.status == "paused"
    if pause is not None:
        moved.pause(*pause)
    elif paused_after and not paused_before:
        moved.pause(None, "active")
    elif paused_before and not paused_after:
        moved.pause("active", "ended")
    return moved


# Shared steps

def _check_is_active(sent, now):
    """422 when is_active contradicts the end_date sent with it: true with one not later than now
    (or null with false), false with one later than now."""
    if "is_active" not in sent or "end_date" not in sent:
        return
    end = sent["end_date"]
    if sent["is_active"] and end is not None and end <= now:
        problem = "An end_date not later than now ends the pause: it cannot be active."
    elif not sent["is_active"] and (end is None or end > now):
        problem = ("An end_date later than now keeps the pause active until then." if end is not None else
                   "A null end_date reopens the pause: it is active.")
    else:
        return
    raise Invalid(is_active=problem, end_date=problem)


def _check_overlaps(record, now):
    """409 naming the other pause if `record`'s span overlaps that of another scheduled or active
    pause of its mentor (whose row the write holds locked)."""
    for other in queries.pending_pauses_of(record.mentor_id):
        if other.id != record.id and moments.overlap(record, other, now):
            this = "This pause" if record.id is None else f"Pause record {record.pause_record_id}"
            raise Conflict(f"{this} would overlap pause record {other.pause_record_id} ({other.state}) of mentor "
                           f"{record.mentor_id!r}: the scheduled and active pauses of a mentor never overlap. "
                           f"Give that one an end or an expected return first, or change these dates.")


def _check_dates(record, sent=(), public_names=None):
    """422 unless the pause is expected back and ends no earlier than it starts. The date named is
    the later one, unless the request sent only the start."""
    for later in ("expected_return_date", "end_date"):
        value = getattr(record, later)
        if value is None or value >= record.start_date:
            continue
        if "start_date" in sent and later not in sent:
            blamed, problem = "start_date", f"Must not be after the pause's {(public_names or {}).get(later, later)}."
        else:
            blamed, problem = later, "Must not be before the start of the pause."
        raise Invalid(**{(public_names or {}).get(blamed, blamed): problem})


def _save_pause(record):
    if record is None:
        return
    try:
        record.save()
    except IntegrityError:
        # Only the one-active-pause index can refuse a valid record: a concurrent pause won.
        raise _already_paused(record.mentor_id) from None


def _already_paused(mentor_id, other=None):
    named = "" if other is None else f" ({other.pause_record_id})"
    return Conflict(f"Mentor {mentor_id!r} already has an active pause record{named}.")
