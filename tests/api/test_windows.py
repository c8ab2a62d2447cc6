"""Who is out, and when: `during` on pause records, `out_during` and `available_during` on mentor
statuses (docs/api.md, "Who is out, and when"), checked against spans computed here from the JSON
of every pause, over every window between the dates the pauses use."""
import datetime as dt
import itertools

import pytest
from factories import create_mentor, create_pause
from servers import invariant_violations
from windows_world import (
    DAY,
    MENTORS,
    RECORDS,
    all_pauses,
    everything,
    expected_lists,
    interval,
    make_world,
    overlaps,
    text,
    walk,
    windows,
)

from mentor_status_service.db import database
from mentor_status_service.pausing import totals


@pytest.fixture
def world(client):
    return make_world(client)


def test_every_window_lists_the_pauses_and_mentors_its_spans_give_with_exact_totals(client, world):
    now = world["now"]
    for start, end in windows(world["points"]):
        during, out, available, _ = expected_lists(client, start, end, now)
        window = interval(start, end)

        records = client.get(RECORDS, query_string={"during": window, "limit": 100}).json
        assert [row["pause_record_id"] for row in records["data"]] == during, window
        assert records["pagination"]["total"] == len(during), window
        listed = client.get(MENTORS, query_string={"out_during": window, "limit": 100}).json
        assert [row["mentor_id"] for row in listed["data"]] == sorted(out), window
        assert listed["pagination"]["total"] == len(out), window
        listed = client.get(MENTORS, query_string={"available_during": window, "limit": 100}).json
        assert [row["mentor_id"] for row in listed["data"]] == sorted(available), window
        assert listed["pagination"]["total"] == len(available), window


def test_the_total_of_during_alone_is_exact_at_any_moment_of_a_day_before_and_after_a_fold(client, app, world):
    """`during` alone reads its total from the spans kept per day (migration 0017): windows that
    begin or end within a day on which spans begin, end or return, at now and a second either
    side of it, and spans of no length, before and after the deltas are folded in."""
    base, now = world["base"], world["now"]
    create_mentor(client, "blink")
    create_pause(client, "blink", start_date=text(base - 8 * DAY), expected_return_date=text(base - 8 * DAY))
    create_mentor(client, "soon")
    create_pause(client, "soon", start_date=text(base + 12 * DAY), expected_return_date=text(base + 12 * DAY))
    half, second = dt.timedelta(hours=12), dt.timedelta(seconds=1)
    points = [base - 40 * DAY + half, base - 20 * DAY, base - 20 * DAY + half, base - 8 * DAY + half,
              now - second, now, now + second,
              base + 10 * DAY, base + 10 * DAY + half, base + 12 * DAY + half, base + 25 * DAY + half]
    for folded in (False, True):
        if folded:
            with app.app_context():
                totals.fold()
                database.close()
        for start, end in windows(points):
            expected = [pause["pause_record_id"] for pause in all_pauses(client) if overlaps(pause, start, end, now)]
            listed = client.get(RECORDS, query_string={"during": interval(start, end), "limit": 100}).json
            assert [row["pause_record_id"] for row in listed["data"]] == expected, (start, end)
            assert listed["pagination"]["total"] == len(expected), (start, end, folded)
    assert invariant_violations(app.config["DATABASE_URL"]) == []


def test_a_pause_ending_at_the_window_start_or_starting_at_its_end_does_not_overlap(client, world):
    base = world["base"]

    def during(start, end):
        return [row["mentor_id"] for row in client.get(RECORDS, query_string={"during": interval(start, end)}).json[
            "data"]]

    # "ended" is [-40, -30): a window that starts at its end, and one that ends at its start.
    assert "ended" not in during(base - 30 * DAY, base - 25 * DAY)
    assert "ended" not in during(base - 45 * DAY, base - 40 * DAY)
    assert "ended" in during(base - 30 * DAY - dt.timedelta(seconds=1), base - 25 * DAY)
    assert "ended" in during(base - 45 * DAY, base - 40 * DAY + dt.timedelta(seconds=1))
    # A span of no length overlaps nothing, even a window around it.
    assert "instant" not in during(base - 16 * DAY, base - 14 * DAY)


def test_plain_dates_are_midnight_utc_so_an_interval_of_dates_excludes_its_last_day(client):
    create_mentor(client, "march")
    create_pause(client, "march", start_date="2027-03-31T08:00:00Z", end_date="2027-03-31T17:00:00Z")

    assert client.get(RECORDS, query_string={"during": "2027-03-01/2027-03-31"}).json["data"] == []
    assert len(client.get(RECORDS, query_string={"during": "2027-03-01/2027-04-01"}).json["data"]) == 1
    assert len(client.get(RECORDS, query_string={"during": "2027-03-31T12:00:00+02:00/2027-03-31T16:00"}).json[
        "data"]) == 1


def test_an_overdue_active_pause_is_out_in_every_window_after_its_start(client, world):
    base = world["base"]
    for start, end in ((base + 100 * DAY, base + 131 * DAY), (base - 19 * DAY, base - 18 * DAY)):
        window = interval(start, end)
        assert "overdue" in [row["mentor_id"] for row in client.get(MENTORS, query_string={"out_during": window}).json[
            "data"]]
        assert "overdue" not in [row["mentor_id"] for row in client.get(
            MENTORS, query_string={"available_during": window}).json["data"]]
    # Before its start it is available: it is paused now, not inactive.
    before = interval(base - 30 * DAY, base - 25 * DAY)
    listed = client.get(MENTORS, query_string={"available_during": before}).json["data"]
    assert "overdue" in [row["mentor_id"] for row in listed]


def test_inactive_mentors_are_never_available(client, world):
    for start, end in windows(world["points"]):
        listed = client.get(MENTORS, query_string={"available_during": interval(start, end), "limit": 100}).json
        assert not {"idle", "retired", "back"} & {row["mentor_id"] for row in listed["data"]}
        assert client.get(MENTORS, query_string={"available_during": interval(start, end),
                                                 "status": "inactive"}).json["pagination"]["total"] == 0


SORTS = ["mentor_id", "-mentor_id", "last_updated", "-created_at", "pause_start_date", "-expected_return_date"]
RECORD_SORTS = ["pause_record_id", "-start_date", "end_date", "-expected_return_date", "created_at"]


def test_windows_combine_with_status_sort_cursor_and_csv_with_exact_totals(client, world):
    now, points = world["now"], world["points"]
    for (start, end), status, sort in itertools.product(windows(points)[::7], [None, "active", "paused", "inactive"],
                                                        SORTS):
        _, out, available, mentors = expected_lists(client, start, end, now)
        window = interval(start, end)
        status_query = {"status": status} if status else {}
        ordered = [row["mentor_id"] for row in everything(client, MENTORS, sort=sort, **status_query)]
        for name, chosen in (("out_during", out), ("available_during", available)):
            query = {name: window, "sort": sort, **status_query}
            expected = [mentor_id for mentor_id in ordered if mentor_id in chosen]
            rows, totals = walk(client, MENTORS, **query)
            assert [row["mentor_id"] for row in rows] == expected, query
            assert totals == {len(expected)}, query
            assert [row["mentor_id"] for row in everything(client, MENTORS, **query)] == expected, query
            first = client.get(MENTORS, query_string={**query, "limit": 3}).json
            assert first["pagination"]["total"] == len(expected), query


def test_during_combines_with_every_pause_record_filter_sort_cursor_and_csv(client, world):
    now, points = world["now"], world["points"]
    filters = [{}, {"mentor_id": "twice"}, {"is_active": "true"}, {"is_active": "false"}, {"reason": "personal_leave"}]
    for (start, end), extra, sort in itertools.product(windows(points)[::9], filters, RECORD_SORTS):
        window = interval(start, end)
        ordered = everything(client, RECORDS, sort=sort, **extra)
        expected = [row["pause_record_id"] for row in all_pauses(client) if overlaps(row, start, end, now)]
        expected = [row["pause_record_id"] for row in ordered if row["pause_record_id"] in expected]
        query = {"during": window, "sort": sort, **extra}
        rows, totals = walk(client, RECORDS, **query)
        assert [row["pause_record_id"] for row in rows] == expected, query
        assert totals == {len(expected)}, query
        assert [row["pause_record_id"] for row in everything(client, RECORDS, **query)] == expected, query


def test_out_and_available_combine_with_each_other_and_the_other_mentor_filters(client, world):
    now, base = world["now"], world["base"]
    first, second = (base - 12 * DAY, base - 5 * DAY), (base + 15 * DAY, base + 40 * DAY)
    _, out_first, _, mentors = expected_lists(client, *first, now)
    _, _, available_second, _ = expected_lists(client, *second, now)
    query = {"out_during": interval(*first), "available_during": interval(*second), "limit": 100}
    listed = client.get(MENTORS, query_string=query).json
    assert [row["mentor_id"] for row in listed["data"]] == sorted(out_first & available_second)
    assert listed["pagination"]["total"] == len(out_first & available_second)
    for extra in ({"is_paused": "true"}, {"is_paused": "false"}, {"overdue": "true"}, {"overdue": "false"},
                  {"expected_return_before": text(base + 20 * DAY)}):
        expected = {row["mentor_id"] for row in client.get(MENTORS, query_string={**extra, "limit": 100}).json[
            "data"]}
        for name, chosen in (("out_during", out_first), ("available_during", available_second)):
            window = first if name == "out_during" else second
            listed = client.get(MENTORS, query_string={name: interval(*window), **extra, "limit": 100}).json
            assert [row["mentor_id"] for row in listed["data"]] == sorted(expected & chosen), (name, extra)
            assert listed["pagination"]["total"] == len(expected & chosen), (name, extra)


def test_a_cursor_is_bound_to_its_window(client, world):
    base = world["base"]
    query = {"during": interval(base - 60 * DAY, base + 60 * DAY), "limit": 1}
    cursor = client.get(RECORDS, query_string=query).json["pagination"]["next_cursor"]
    assert cursor is not None

    moved = client.get(RECORDS, query_string={**query, "during": interval(base - 60 * DAY, base + 61 * DAY),
                                              "cursor": cursor})
    assert moved.status_code == 422
    assert "cursor" in moved.json["errors"]["query"]
    assert client.get(RECORDS, query_string={**query, "cursor": cursor}).status_code == 200


@pytest.mark.parametrize("value", ["2027-03-01", "2027-03-01/", "/2027-03-01", "2027-03-01/2027-03-01",
                                   "2027-03-05/2027-03-01", "2027-03-01/P1M", "P1M/2027-03-01", "2027-03-01/..",
                                   "2027-03-01/2027-03-05/2027-03-09", "2026-02-30/2026-03-05", "a/b",
                                   "2027-03-01--2027-03-05", ""])
def test_a_malformed_or_empty_window_is_a_422_naming_its_parameter(client, value):
    for path, name in ((RECORDS, "during"), (MENTORS, "out_during"), (MENTORS, "available_during")):
        response = client.get(path, query_string={name: value})
        assert response.status_code == 422, (name, value)
        assert list(response.json["errors"]["query"]) == [name], (name, value)
