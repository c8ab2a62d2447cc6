"""The steps the writes of rules.py (and the import of many at once) share: what a mentor becomes
from what was sent, which pause that opens or changes, the checks of a pause's dates, state and
overlaps, and the totals a change moves. Each runs inside the caller's transaction, with the
mentor already locked; none opens a transaction of its own."""

from peewee import IntegrityError

from ..errors import Conflict, Invalid
from . import lookups, moments, totals
from .models import PauseRecord
from .totals import TotalsMoved

# A mentor's pause fields, and the fields of its active record they mirror.
MENTOR_PAUSE_FIELDS = {"pause_start_date": "start_date", "expected_return_date": "expected_return_date",
                       "pause_reason": "reason"}
_MENTOR_FIELD_OF_RECORD_FIELD = {record: mentor for mentor, record in MENTOR_PAUSE_FIELDS.items()}
PAUSE_DATE_FIELDS = ("start_date", "expected_return_date", "end_date")


def target_status(current, sent):
    """The status a write leads to; `current` is None on create."""
    if "status" in sent:
        return sent["status"]
    if sent.get("is_paused") is True:
        return "paused"
    if sent.get("is_paused") is False and current in (None, "paused"):
        return "active"
    return current or "active"


def apply_to_mentor(mentor, sent, now, current_status):
    """Set the fields `sent` on the unsaved `mentor`; returns the pause record to save with it, if any."""
    target = target_status(current_status, sent)
    if target == "paused":
        pause = opened_or_changed_pause(mentor, sent, now)
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


def opened_or_changed_pause(mentor, sent, now):
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
    check_dates(pause, sent={MENTOR_PAUSE_FIELDS[name] for name in sent if name in MENTOR_PAUSE_FIELDS},
                 public_names=_MENTOR_FIELD_OF_RECORD_FIELD)
    dates_set = beginning or any(name in sent for name in ("pause_start_date", "expected_return_date"))
    # The mentor's pause stays active, whatever its dates: only the applier or a pause-record write ends it.
    moments.settle(pause, now, moments.settings(), dates_set, state="active")
    if beginning or dates_set:
        check_overlaps(pause, now)
    return pause


def record_moves(status_before, mentor, pause=None, reasons=None):
    """Keep the list totals exact: the mentor went from `status_before` to its status now, and a pause
    record from one state to another (given, or else implied by the mentor pausing or resuming), and
    from one reason to another (`reasons`: before and after, None for absent or no reason)."""
    totals.add(moves(status_before, mentor, pause, reasons))


def moves(status_before, mentor, pause=None, reasons=None):
    """What `record_moves` records, without recording it."""
    moved = TotalsMoved()
    if reasons is not None:
        moved.reason(*reasons)
    moved.mentor(status_before, mentor.status)
    paused_before, paused_after = status_before == "paused", mentor.status == "paused"
    if pause is not None:
        moved.pause(*pause)
    elif paused_after and not paused_before:
        moved.pause(None, "active")
    elif paused_before and not paused_after:
        moved.pause("active", "ended")
    return moved


def reason_of(pause):
    """The reason of `pause`, None without a pause or a reason: what the totals per reason move by."""
    return pause.reason if pause is not None else None


def check_is_active(sent, now):
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


def check_overlaps(record, now):
    """409 naming the other pause if `record`'s span overlaps that of another scheduled or active
    pause of its mentor (whose row the write holds locked)."""
    for other in lookups.pending_pauses_of(record.mentor_id):
        if other.id != record.id and moments.overlap(record, other, now):
            this = "This pause" if record.id is None else f"Pause record {record.pause_record_id}"
            raise Conflict(f"{this} would overlap pause record {other.pause_record_id} ({other.state}) of mentor "
                           f"{record.mentor_id!r}: the scheduled and active pauses of a mentor never overlap. "
                           f"Give that one an end or an expected return first, or change these dates.")


def check_dates(record, sent=(), public_names=None):
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


def save_pause(record):
    if record is None:
        return
    try:
        record.save()
    except IntegrityError:
        # Only the one-active-pause index can refuse a valid record: a concurrent pause won.
        raise already_paused(record.mentor_id) from None


def already_paused(mentor_id, other=None):
    named = "" if other is None else f" ({other.pause_record_id})"
    return Conflict(f"Mentor {mentor_id!r} already has an active pause record{named}.")
