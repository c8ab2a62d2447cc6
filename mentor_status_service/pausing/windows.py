"""Who is out, and when: a pause's span, a window of time, and whether the two overlap, as SQL for
the lists (with the conditions and totals of `out_during` and `available_during`) and in Python for
the calendar.

A pause's span runs from its `start_date` to its `end_date`; with none, to its
`expected_return_date` while that is still to come; otherwise it has no end (an active pause past
its expected return is still out). Spans and windows are half-open, `[start, end)`: a pause
ending exactly when a window starts, or starting exactly when it ends, does not overlap it, and a
span of no length overlaps nothing. The span is computed from the dates and "now" alone, whatever
state the record is in.
"""
import datetime as dt
from typing import NamedTuple

from peewee import SQL, Case, Select, fn

from ..db import PreparedQuery
from . import totals
from .lookups import in_state
from .models import MentorStatus, PauseRecord

_SQL_TIME = "%Y-%m-%d %H:%M:%S"


class Window(NamedTuple):
    """`[start, end)`, naive UTC to the second; `start < end`."""

    start: dt.datetime
    end: dt.datetime

    def __str__(self):
        """The canonical text of the window (what a cursor is bound to)."""
        return f"{self.start.strftime(_SQL_TIME)}/{self.end.strftime(_SQL_TIME)}"


def parse_window(text, parse_time):
    """The Window `text` names: two dates or datetimes that `parse_time` reads, joined by one `/`
    (no durations, no open ends), the first before the second. ValueError saying what is wrong."""
    parts = text.split("/")
    if len(parts) != 2 or not all(parts):
        raise ValueError("Must be an interval <start>/<end> of two dates or datetimes, such as "
                         "2027-03-01/2027-04-01.")
    start, end = (parse_time(part) for part in parts)
    if not start < end:
        raise ValueError("The start of the interval must be before its end.")
    return Window(start, end)


def span_end(start_date, expected_return_date, end_date, now):
    """When the span of a pause with these dates ends, as of `now`; None when it has no end."""
    if end_date is not None:
        return end_date
    if expected_return_date is not None and expected_return_date > now:
        return expected_return_date
    return None


def overlaps(pause, window_start, window_end, now):
    """A SQL condition on the pause-record model (or alias) `pause`: its span overlaps the window.
    The arguments may be values or placeholders."""
    return overlaps_ended(pause, window_start, window_end) | overlaps_open(pause, window_start, window_end, now)


# The two branches of `overlaps`, each read along an index of its own (migration 0013): pauses with
# an end date, and those without (whose span ends at an expected return still to come, or never).

def overlaps_ended(pause, window_start, window_end):
    """A pause with an end date whose span overlaps the window."""
    return (pause.end_date.is_null(False) & (pause.start_date < window_end) & (pause.end_date > window_start)
            & (pause.end_date > pause.start_date))


def overlaps_open(pause, window_start, window_end, now):
    """A pause with no end date whose span overlaps the window, as of `now`."""
    expected = pause.expected_return_date
    return pause.end_date.is_null() & (pause.start_date < window_end) & (
        expected.is_null() | (expected <= now) | ((expected > window_start) & (expected > pause.start_date)))


# The mentors' list: out_during and available_during (queries.py)

_WindowPause = PauseRecord.alias("w")  # a pause of the mentor whose span may overlap a window


def list_conditions(out, available, mentor_column, not_inactive, windows_, now):
    """The conditions of `out_during` (`out`) and `available_during` (`available`) on the mentor
    `mentor_column`: `windows_` holds the start and end of each window; `not_inactive` says that
    the mentor is not inactive now (None where every mentor listed is paused)."""
    out_start, out_end, free_start, free_end = windows_
    conditions = []
    if out:
        conditions.append(_pause_exists(mentor_column, out_start, out_end, now))
    if available:
        conditions.append(~_pause_exists(mentor_column, free_start, free_end, now))
    if available and not_inactive is not None:
        conditions.append(not_inactive)
    return conditions


def _pause_exists(mentor_column, window_start, window_end, now):
    """Whether the mentor `mentor_column` has a pause (in any state) whose span overlaps the window."""
    return fn.EXISTS(_WindowPause.select(SQL("1")).where(
        (_WindowPause.mentor == mentor_column) & overlaps(_WindowPause, window_start, window_end, now)))


def list_total(available, status, is_paused, windows_, now):
    """The total of a list with `out_during` or (`available`) `available_during`, not both, filtered
    at most by status or is_paused: from the mentors out in the window, counted by their status now
    (`out_by_status`), and for those available the list totals, which count the mentors of each
    status, less those of them that are out."""
    out_start, out_end, free_start, free_end = windows_
    statuses = {"active", "paused"} if available else {"active", "paused", "inactive"}
    if status is not None:
        statuses &= {status}
    if is_paused is not None:
        statuses &= {"paused"} if is_paused else {"active", "inactive"}
    if not statuses:
        return 0
    out = out_by_status(*((free_start, free_end) if available else (out_start, out_end)), now)
    out_listed = sum(out[each] for each in statuses)
    if not available:
        return out_listed
    return totals.sum_of(*(totals.TOTAL_OF_STATUS[each] for each in statuses)) - out_listed


def _out_counts(window_start, window_end, now):
    """How many mentors have a pause (in any state) whose span overlaps the window, how many of them
    are paused now and how many inactive. The mentors out are the union of the two branches of the
    overlap, each an index-only range scan; each of them is then looked up by index (correlated
    EXISTS: a join would read every active pause)."""
    ended, open_ = PauseRecord.alias("e"), PauseRecord.alias("o")
    out = ended.select(ended.mentor.alias("mentor_id")).where(
        overlaps_ended(ended, window_start, window_end)).union(
        open_.select(open_.mentor.alias("mentor_id")).where(
            overlaps_open(open_, window_start, window_end, now))).alias("out")
    active, mentor = PauseRecord.alias("a"), MentorStatus.alias("i")
    paused = fn.EXISTS(active.select(SQL("1")).where((active.mentor == out.c.mentor_id) & in_state(active, "active")))
    inactive = fn.EXISTS(mentor.select(SQL("1")).where(
        (mentor.mentor_id == out.c.mentor_id) & (mentor.base_status == "inactive")))
    return Select([out], [fn.COUNT(SQL("*")), fn.COUNT(Case(None, [(paused, 1)])),
                          fn.COUNT(Case(None, [(~paused & inactive, 1)]))])


_OUT_COUNTS = PreparedQuery(lambda db, *keys: _out_counts(*keys).bind(db), keys=3)


def out_by_status(window_start, window_end, now):
    """How many mentors of each status now ({status: count}) have a pause whose span overlaps the window."""
    out, paused, inactive = _OUT_COUNTS.rows(window_start, window_end, now)[0]
    return {"active": out - paused - inactive, "paused": paused, "inactive": inactive}
