"""When a pause's moments fall due, and what its dates say at a given moment: its state, its span,
its pending notices and its next moment. Plain functions of a `PauseRecord` and a time (naive UTC),
no database and no Flask but for reading the two settings; rules.py applies what these decide.

The moments of a pause:

- `begin`: a scheduled pause becomes active at its start_date;
- `end`: an active pause ends at its end_date, or (PAUSE_AUTO_RETURN) at its expected_return_date
  when it has no end_date;
- `return_due`: RETURN_NOTICE_DAYS before its expected_return_date (at its start if that is later),
  published once per expected_return_date value while it is active;
- `overdue`: at its expected_return_date, while it is still active (not with PAUSE_AUTO_RETURN).
"""
import datetime as dt
from typing import NamedTuple

from flask import current_app, has_app_context

BEGIN, END, RETURN_DUE, OVERDUE = "begin", "end", "return_due", "overdue"
NOTICES = (RETURN_DUE, OVERDUE)
_NOTICE_FLAG = {RETURN_DUE: "return_due_notice_for", OVERDUE: "overdue_notice_for"}


class Settings(NamedTuple):
    auto_return: bool = False
    notice_days: int = 7


def settings():
    """PAUSE_AUTO_RETURN and RETURN_NOTICE_DAYS of the app at hand (their defaults outside one)."""
    if not has_app_context():
        return Settings()
    config = current_app.config
    return Settings(config.get("PAUSE_AUTO_RETURN", False), config.get("RETURN_NOTICE_DAYS", 7))


def state_at(record, now):
    """The state `record`'s dates give at `now`: scheduled before its start, ended from its end_date
    on, active in between (also past its expected return: an overdue pause is still active)."""
    if record.start_date > now:
        return "scheduled"
    if record.end_date is not None and record.end_date <= now:
        return "ended"
    return "active"


def span_end(record, now):
    """Where `record`'s span [start_date, end) ends: its end_date; without one, its
    expected_return_date while that is still to come; otherwise None (no end)."""
    if record.end_date is not None:
        return record.end_date
    if record.expected_return_date is not None and record.expected_return_date > now:
        return record.expected_return_date
    return None


def overlap(record, other, now):
    """Whether the half-open spans of the two pauses share an instant (a span of no length shares none)."""
    end, other_end = span_end(record, now), span_end(other, now)
    if end is not None and end <= record.start_date or other_end is not None and other_end <= other.start_date:
        return False
    return (other_end is None or record.start_date < other_end) and (end is None or other.start_date < end)


def notice_moment(record, notice, config):
    """When `notice` of `record` falls due for its current expected_return_date, or None if it
    never will (no expected return, turned off, already published or waived for that date)."""
    expected = record.expected_return_date
    if expected is None or getattr(record, _NOTICE_FLAG[notice]) == expected:
        return None
    if notice == RETURN_DUE:
        if config.notice_days == 0:
            return None
        return max(record.start_date, expected - dt.timedelta(days=config.notice_days))
    return None if config.auto_return else expected


def mark_notice(record, notice):
    """`notice` is published (or waived) for `record`'s current expected_return_date."""
    setattr(record, _NOTICE_FLAG[notice], record.expected_return_date)


def pending(record, config):
    """Every moment still to be applied to `record`, as (when, kind), earliest first; a transition
    comes before a notice due at the same time (an ending pause is not told it is overdue)."""
    moments = []
    if record.state == "scheduled":
        moments.append((record.start_date, 0, BEGIN))
    if record.state in ("scheduled", "active"):
        if record.end_date is not None:
            moments.append((record.end_date, 0, END))
        elif config.auto_return and record.expected_return_date is not None:
            moments.append((record.expected_return_date, 0, END))
        for order, notice in enumerate(NOTICES, start=1):
            moment = notice_moment(record, notice, config)
            if moment is not None:
                moments.append((moment, order, notice))
    return [(moment, kind) for moment, _, kind in sorted(moments)]


def next_due(record, now, config):
    """The first moment of `record` to apply at `now`, as (when, kind), or None. A notice is only
    published while the pause is active; a scheduled pause's notices wait for its start."""
    for moment, kind in pending(record, config):
        if moment > now:
            return None
        if kind in NOTICES and record.state != "active":
            continue
        return moment, kind
    return None


def next_moment_at(record, config):
    """When the applier should next look at `record` (None: never again unless a write changes it)."""
    moments = pending(record, config)
    return moments[0][0] if moments else None  # a scheduled pause's begins first: nothing comes before its start


def waive_past_notices(record, now, config):
    """A write that created the pause or set its dates publishes nothing for a notice whose moment,
    as those dates give it, is already past: whoever wrote them knows."""
    for notice in NOTICES:
        moment = notice_moment(record, notice, config)
        if moment is not None and moment <= now:
            mark_notice(record, notice)


def settle(record, now, config, dates_set, state=None):
    """After a write: `record`'s state as its dates give it at `now` (or `state`), past notices
    waived when the write set its dates (`dates_set`), and its next moment."""
    record.state = state or state_at(record, now)
    if dates_set:
        waive_past_notices(record, now, config)
    record.next_moment_at = next_moment_at(record, config)
