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

from peewee import SQL, Entity, Select, Table, fn

from ..db import PreparedQuery, database
from . import span_days, totals
from .models import PauseRecord

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


def not_overlapping_ranges(pause, window_start, window_end, now):
    """Four (column, conditions) on the pause-record alias `pause`, each a range of an index of
    its own: together they hold the spans that do not overlap the window (the complement of
    `overlaps`), and no pause is in two, given the CHECKs that keep an end and an expected return at
    or after the start: a pause starting at or after the window's end (its index alone tells: with
    other conditions beside it the planner misjudged the range and read every active pause); one of
    no length without an end date, starting after now and within the window; one with an end date
    before the window's end, by its start or of no length; one without, due back after now and by
    the window's start. For few_paused.py, on the active pauses."""
    start, end, expected = pause.start_date, pause.end_date, pause.expected_return_date
    return [
        (start, [start >= window_end]),
        (start, [start > now, start > window_start, start < window_end, end.is_null(), expected == start]),
        (end, [end.is_null(False), end < window_end, (end <= window_start) | (end == start)]),
        (expected, [end.is_null(), expected > now, expected <= window_start]),
    ]


def listed_by_pause(available, status, is_paused, windows_, now):
    """How many mentors a list with `out_during` or (`available`) `available_during`, not both,
    filtered at most by status or is_paused, names: (those paused, the others). From the mentors
    out in the window, counted by their status now (`out_by_status`), and for those available the
    list totals, which count the mentors of each status, less those of them that are out."""
    out_start, out_end, free_start, free_end = windows_
    statuses = {"active", "paused"} if available else {"active", "paused", "inactive"}
    if status is not None:
        statuses &= {status}
    if is_paused is not None:
        statuses &= {"paused"} if is_paused else {"active", "inactive"}
    if not statuses:
        return 0, 0
    out = out_by_status(*((free_start, free_end) if available else (out_start, out_end)), now)
    if available:
        kept = totals.read()
        listed = {each: kept[totals.TOTAL_OF_STATUS[each]] - out[each] for each in statuses}
    else:
        listed = {each: out[each] for each in statuses}
    return listed.pop("paused", 0), sum(listed.values())


# The mentors out in a window [a, b) are those out at the instant a, plus those not out then with a
# pause beginning within it (after a: one holding a would make them out then). The first are
# the spans holding a (span_days.py) less each mentor's second and later spans holding it, which
# only the mentors listed in `mentor_overlapping_spans` have (migration 0018); the second are read
# from the pauses that begin within the window. Each is counted by the status the mentors have now,
# which their pauses carry (`status_of_mentor`).

_Held, _Later = PauseRecord.alias("h"), PauseRecord.alias("l")
# Not a field of the model, which would write back the value it read: only the triggers set it.
_HELD_STATUS, _LATER_STATUS = Entity("h", "status_of_mentor"), Entity("l", "status_of_mentor")
_OverlappingSpans = Table("mentor_overlapping_spans", ("mentor_id",))


def _holds(pause, instant, now):
    """A SQL condition: the span of `pause` holds `instant`, given as `[instant, instant + FINEST)`."""
    return overlaps(pause, *instant, now)


def _second_spans(instant, instant_end, now):
    """(status, how many spans hold `instant` beyond the first of each mentor)."""
    held = (_Held.select(_Held.mentor, _HELD_STATUS.alias("status"), fn.COUNT(SQL("*")).alias("spans"))
            .join(_OverlappingSpans, on=(_OverlappingSpans.mentor_id == _Held.mentor))
            .where(_holds(_Held, (instant, instant_end), now)).group_by(_Held.mentor, _HELD_STATUS).alias("held"))
    return Select([held], [held.c.status, fn.SUM(held.c.spans - 1).alias("spans")]).group_by(held.c.status)


def _beginning_within(window_start, window_end, start_end, now):
    """(status, how many mentors not out at the window's start have a pause beginning within it)."""
    return (_Later.select(_LATER_STATUS.alias("status"), fn.COUNT(_Later.mentor.distinct()).alias("mentors"))
            .where((_Later.start_date > window_start) & overlaps(_Later, window_start, window_end, now)
                   & ~fn.EXISTS(_Held.select(SQL("1")).where((_Held.mentor == _Later.mentor)
                                                            & _holds(_Held, (window_start, start_end), now))))
            .group_by(_LATER_STATUS))


_SECOND_SPANS = PreparedQuery(lambda db, *keys: _second_spans(*keys).bind(db), keys=3)
_BEGINNING_WITHIN = PreparedQuery(lambda db, *keys: _beginning_within(*keys).bind(db), keys=4)


def out_by_status(window_start, window_end, now):
    """How many mentors of each status now ({status: count}) have a pause whose span overlaps the
    window, in one statement's snapshot."""
    start_end = window_start + span_days.FINEST  # the instant of its start, as a window
    held, held_params = span_days.overlapping_statement(Window(window_start, start_end), now)
    second, second_params = _SECOND_SPANS.statement(window_start, start_end, now)
    later, later_params = _BEGINNING_WITHIN.statement(window_start, window_end, start_end, now)
    sql = (f"SELECT status, SUM(mentors) FROM (SELECT status, pauses AS mentors FROM ({held}) AS held UNION ALL "
           f"SELECT status, -spans FROM ({second}) AS second_spans UNION ALL "
           f"SELECT status, mentors FROM ({later}) AS beginning) AS counted GROUP BY status")
    return span_days.by_status(database.obj.execute_sql(sql, [*held_params, *second_params, *later_params]))
