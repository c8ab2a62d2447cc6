"""pausing/queries.py, pause_record_lists.py and keyset.py called directly, on both backends: each
filter and sort of the two lists returns the rows and the total this test works out from the data
it wrote, and a list read a page at a time by keyset is the list read whole."""
import datetime as dt

import pytest

from mentor_status_service.db import database, utc_now
from mentor_status_service.pausing import pause_record_lists, queries, rules
from mentor_status_service.pausing.keyset import ListSort
from mentor_status_service.pausing.models import MENTOR_SORT_KEYS, PAUSE_RECORD_SORT_KEYS

NOW = utc_now()
DAY = dt.timedelta(days=1)
# Mentor i is paused when i % 3 == 0 (expected back: never said, 3 days ago, in 5 days, yesterday),
# inactive when i % 4 == 1 and not paused, else active; mentors 2 and 7 had a pause that ended.
EXPECTED_BACK = {0: None, 3: NOW - 3 * DAY, 6: NOW + 5 * DAY, 9: NOW - DAY}
MENTORS = {f"mentor-{i:02d}": ("paused" if i in EXPECTED_BACK else "inactive" if i % 4 == 1 else "active",
                               EXPECTED_BACK.get(i)) for i in range(12)}
ENDED = {"mentor-02": "training", "mentor-07": "leave"}


@pytest.fixture
def data(app):
    with app.app_context():
        for number, (mentor_id, (status, back)) in enumerate(MENTORS.items()):
            fields = {"mentor_id": mentor_id, "status": status}
            if status == "paused":
                fields |= {"pause_start_date": NOW - (number + 10) * DAY, "expected_return_date": back,
                           "pause_reason": "leave"}
            rules.create_mentor_status(fields)
        for mentor_id, reason in ENDED.items():
            rules.create_pause_record({"mentor_id": mentor_id, "start_date": NOW - 40 * DAY, "end_date": NOW - 30 * DAY,
                                       "reason": reason})
        yield
        database.close()


def mentors_where(test):
    return sorted(mentor_id for mentor_id, (status, back) in MENTORS.items() if test(status, back))


MENTOR_FILTERS = [
    ({}, lambda status, back: True),
    ({"status": "paused"}, lambda status, back: status == "paused"),
    ({"status": "active"}, lambda status, back: status == "active"),
    ({"status": "inactive"}, lambda status, back: status == "inactive"),
    ({"is_paused": True}, lambda status, back: status == "paused"),
    ({"is_paused": False}, lambda status, back: status != "paused"),
    ({"overdue": True}, lambda status, back: back is not None and back < NOW),
    ({"overdue": False}, lambda status, back: back is None or back >= NOW),
    ({"expected_return_before": NOW + DAY}, lambda status, back: back is not None and back < NOW + DAY),
    ({"expected_return_before": NOW + 9 * DAY, "overdue": False}, lambda status, back: back is not None and (
        NOW <= back < NOW + 9 * DAY)),
    ({"status": "paused", "overdue": False}, lambda status, back: status == "paused" and (back is None or back >= NOW)),
    ({"status": "active", "is_paused": True}, lambda status, back: False),
]


@pytest.mark.parametrize("filters, test", MENTOR_FILTERS, ids=[str(filters) for filters, _ in MENTOR_FILTERS])
def test_each_mentor_filter_lists_and_counts_the_mentors_it_names(data, filters, test):
    rows, total, last = queries.mentor_page(100, NOW, **filters)

    expected = mentors_where(test)
    assert [row[0] for row in rows] == expected
    assert total == len(expected) and last is None


@pytest.mark.parametrize("page, count", [(1, 5), (3, 2), (4, 0), (1000, 0)])
def test_a_page_by_number_tells_the_total_within_and_past_the_end(data, page, count):
    # Within TOTAL_IN_PAGE_MAX_OFFSET the total comes with the page's rows, or without rows read
    # apart; past it, it is read first.
    rows, total, _ = queries.mentor_page(5, NOW, page=page)

    assert [row[0] for row in rows] == sorted(MENTORS)[(page - 1) * 5:page * 5]
    assert len(rows) == count and total == len(MENTORS)


def sorted_by(values, descending):
    """Ids by value, ties by id, the same direction; those without a value last, by id."""
    valued = sorted((value, key) for key, value in values.items() if value is not None)
    valued = valued[::-1] if descending else valued
    nulls = sorted((key for key, value in values.items() if value is None), reverse=descending)
    return [key for _, key in valued] + nulls


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("key", ["mentor_id", "expected_return_date"])
def test_mentors_sort_by_a_key_with_ties_by_id_and_nulls_last(data, key, descending):
    values = {mentor_id: mentor_id if key == "mentor_id" else back for mentor_id, (_, back) in MENTORS.items()}

    rows, _, _ = queries.mentor_page(100, NOW, ListSort(key, descending))

    assert [row[0] for row in rows] == sorted_by(values, descending)


PAUSE_FILTERS = [
    ({}, 6),
    ({"is_active": True}, 4),
    ({"is_active": False}, 2),
    ({"mentor_id": "mentor-02"}, 1),
    ({"mentor_id": "mentor-03", "is_active": False}, 0),
    ({"reason": "leave"}, 5),
    ({"reason": "leave", "is_active": False}, 1),
]


@pytest.mark.parametrize("filters, count", PAUSE_FILTERS, ids=[str(filters) for filters, _ in PAUSE_FILTERS])
def test_each_pause_record_filter_lists_and_counts_the_records_it_names(data, filters, count):
    rows, total, _ = pause_record_lists.pause_record_page(100, **filters)

    assert total == len(rows) == count
    for number, mentor_id, start, expected, end, reason, created, *_ in rows:
        assert filters.get("mentor_id", mentor_id) == mentor_id and filters.get("reason", reason) == reason
        assert filters.get("is_active", end is None) == (end is None)


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("mentors, key", [(True, key) for key in MENTOR_SORT_KEYS]
                         + [(False, key) for key in PAUSE_RECORD_SORT_KEYS])
def test_a_list_read_by_keyset_pages_is_the_list_read_whole(data, mentors, key, descending):
    def page(limit, after=None):
        if mentors:
            return queries.mentor_page(limit, NOW, ListSort(key, descending), after=after)
        return pause_record_lists.pause_record_page(limit, ListSort(key, descending), after=after)

    whole, total, _ = page(100)
    walked, after = [], None
    while True:
        rows, _, after = page(5, after)
        walked += rows
        if after is None:
            break

    assert walked == whole and len(whole) == total == (12 if mentors else 6)
