"""Who is out, and when: a pause's span, a window of time, and whether the two overlap, as SQL for
the lists and in Python for the calendar.

A pause's span runs from its `start_date` to its `end_date`; with none, to its
`expected_return_date` while that is still to come; otherwise it has no end (an active pause past
its expected return is still out). Spans and windows are half-open, `[start, end)`: a pause
ending exactly when a window starts, or starting exactly when it ends, does not overlap it, and a
span of no length overlaps nothing. The span is computed from the dates and "now" alone, whatever
state the record is in.
"""
import datetime as dt
from typing import NamedTuple

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


# The two branches of `overlaps`, each read along an index of its own (migration 0012): pauses with
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
