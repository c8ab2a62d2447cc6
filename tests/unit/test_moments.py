"""When a pause's moments fall due (mentor_status_service/pausing/moments.py), without a database."""
import datetime as dt

import pytest

from mentor_status_service.pausing import moments
from mentor_status_service.pausing.models import PauseRecord

NOW = dt.datetime(2027, 1, 10, 12, 0, 0)
DEFAULTS = moments.Settings(auto_return=False, notice_days=7)


def day(number):
    return dt.datetime(2027, 1, number)


def pause(start, end=None, expected=None, state=None, **flags):
    record = PauseRecord(start_date=start, end_date=end, expected_return_date=expected, **flags)
    record.state = state or moments.state_at(record, NOW)
    return record


@pytest.mark.parametrize("record, state", [
    (pause(day(1)), "active"),
    (pause(day(11)), "scheduled"),
    (pause(day(1), end=day(5)), "ended"),
    (pause(day(1), end=NOW), "ended"),  # an end at this very second has passed
    (pause(day(1), end=day(20)), "active"),
    (pause(day(1), expected=day(5)), "active"),  # overdue is still active
])
def test_the_state_is_what_the_dates_give_now(record, state):
    assert record.state == state


@pytest.mark.parametrize("first, second, overlapping", [
    (pause(day(1), end=day(5)), pause(day(5), end=day(8)), False),  # half-open: one begins as the other ends
    (pause(day(1), end=day(6)), pause(day(5), end=day(8)), True),
    (pause(day(11), expected=day(15)), pause(day(15)), False),  # an expected return ahead ends the span
    (pause(day(1), expected=day(5)), pause(day(15)), True),  # overdue: no end in sight
    (pause(day(1)), pause(day(30), end=day(31)), True),
    (pause(day(12), end=day(12)), pause(day(11), end=day(20)), False),  # a span of no length
])
def test_spans_overlap_as_half_open_intervals(first, second, overlapping):
    assert moments.overlap(first, second, NOW) is overlapping
    assert moments.overlap(second, first, NOW) is overlapping


def test_a_scheduled_pause_begins_before_anything_else_falls_due():
    record = pause(day(11), end=day(11), expected=day(12))

    assert [kind for _, kind in moments.pending(record, DEFAULTS)] == ["begin", "end", "return_due", "overdue"]
    assert moments.next_moment_at(record, DEFAULTS) == day(11)
    assert moments.next_due(record, day(10), DEFAULTS) is None


def test_notices_fall_due_before_the_expected_return_and_at_it():
    record = pause(day(1), expected=day(20))

    assert moments.pending(record, DEFAULTS) == [(day(13), "return_due"), (day(20), "overdue")]
    moments.mark_notice(record, "return_due")
    assert moments.next_moment_at(record, DEFAULTS) == day(20)
    record.expected_return_date = day(25)  # a new date re-arms the notice
    assert moments.next_moment_at(record, DEFAULTS) == day(18)


def test_auto_return_ends_the_pause_and_publishes_no_overdue_notice():
    record = pause(day(1), expected=day(20))
    settings = moments.Settings(auto_return=True, notice_days=0)

    assert moments.pending(record, settings) == [(day(20), "end")]


def test_a_write_waives_the_notices_already_past():
    record = pause(day(8), expected=day(12))  # return_due fell due at its start, two days ago

    moments.settle(record, NOW, DEFAULTS, dates_set=True)

    assert record.return_due_notice_for == day(12) and record.overdue_notice_for is None
    assert record.next_moment_at == day(12)
