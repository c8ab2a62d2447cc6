import datetime as dt
import itertools

import pytest
from factories import create_mentor, create_pause

MENTORS = "/api/v1/mentor-statuses"
RECORDS = "/api/v1/pause-records"


def mentor_ids(client, **query):
    response = client.get(MENTORS, query_string=query)
    assert response.status_code == 200, response.json
    return [mentor["mentor_id"] for mentor in response.json["data"]]


def test_list_envelope_has_data_and_pagination_with_defaults(client):
    create_mentor(client)

    response = client.get(MENTORS)

    assert response.status_code == 200
    assert response.json["pagination"] == {"page": 1, "limit": 20, "total": 1, "next_cursor": None}
    assert response.json["data"][0]["mentor_id"] == "mentor-001"
    assert set(response.json["data"][0]) >= {"metadata", "pause_reason", "created_at"}


def test_mentors_are_ordered_by_mentor_id_in_byte_order(client):
    for mentor_id in ["b", "B", "a", "A-1", "A.1", "A_1", "A@1", "A:1", "10", "9", "Z"]:
        create_mentor(client, mentor_id)

    assert mentor_ids(client) == sorted(["b", "B", "a", "A-1", "A.1", "A_1", "A@1", "A:1", "10", "9", "Z"])


def test_pages_slice_the_ordered_list_and_report_the_true_total(client):
    for number in range(7):
        create_mentor(client, f"mentor-{number:03d}")

    pages = [client.get(MENTORS, query_string={"page": page, "limit": 3}).json for page in (1, 2, 3, 4)]

    assert [[m["mentor_id"][-1] for m in page["data"]] for page in pages] == [
        ["0", "1", "2"], ["3", "4", "5"], ["6"], []]
    assert {page["pagination"]["total"] for page in pages} == {7}
    assert pages[3]["pagination"] == {"page": 4, "limit": 3, "total": 7, "next_cursor": None}


@pytest.mark.parametrize("path", [MENTORS, RECORDS])
@pytest.mark.parametrize("query, parameter", [
    ({"page": 0}, "page"), ({"page": -1}, "page"), ({"page": "one"}, "page"), ({"page": "1.5"}, "page"),
    ({"page": 10 ** 30}, "page"), ({"page": "1_0"}, "page"), ({"page": " 5 "}, "page"), ({"page": "\u0661"}, "page"),
    ({"page": "-0"}, "page"), ({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"limit": "x"}, "limit"),
])
def test_out_of_range_or_non_numeric_paging_is_422_naming_the_parameter(client, path, query, parameter):
    response = client.get(path, query_string=query)

    assert response.status_code == 422
    assert set(response.json["errors"]["query"]) == {parameter}


def test_limit_100_is_allowed(client):
    assert client.get(MENTORS, query_string={"limit": 100}).json["pagination"]["limit"] == 100


def seed_statuses(client):
    create_mentor(client, "active-1")
    create_mentor(client, "inactive-1", status="inactive")
    create_mentor(client, "paused-early", status="paused", pause_start_date="2026-01-01",
                  expected_return_date="2026-03-01")
    create_mentor(client, "paused-late", status="paused", pause_start_date="2026-01-01",
                  expected_return_date="2026-06-01")
    create_mentor(client, "paused-open", status="paused")


@pytest.mark.parametrize("query, expected", [
    ({"status": "active"}, ["active-1"]),
    ({"status": "inactive"}, ["inactive-1"]),
    ({"status": "paused"}, ["paused-early", "paused-late", "paused-open"]),
    ({"is_paused": "true"}, ["paused-early", "paused-late", "paused-open"]),
    ({"is_paused": "false"}, ["active-1", "inactive-1"]),
    ({"expected_return_before": "2026-06-01T00:00:00Z"}, ["paused-early"]),
    ({"expected_return_before": "2026-06-02"}, ["paused-early", "paused-late"]),
    ({"expected_return_before": "2026-06-02", "status": "active"}, []),
    ({"status": "active", "is_paused": "true"}, []),
    ({"status": "paused", "is_paused": "true", "expected_return_before": "2026-04-01"}, ["paused-early"]),
])
def test_mentor_filters_combine(client, query, expected):
    seed_statuses(client)

    response = client.get(MENTORS, query_string=query)

    assert [m["mentor_id"] for m in response.json["data"]] == expected
    assert response.json["pagination"]["total"] == len(expected)


@pytest.mark.parametrize("path, query, parameter", [
    (MENTORS, {"status": "retired"}, "status"),
    (MENTORS, {"is_paused": "maybe"}, "is_paused"),
    (MENTORS, {"expected_return_before": "2026-02-30"}, "expected_return_before"),
    (RECORDS, {"mentor_id": "bad id"}, "mentor_id"),
    (RECORDS, {"mentor_id": "' OR 1=1 --"}, "mentor_id"),
    (RECORDS, {"is_active": "yes please"}, "is_active"),
    (RECORDS, {"reason": "Not-A-Code"}, "reason"),
])
def test_malformed_filter_is_422_naming_it(client, path, query, parameter):
    response = client.get(path, query_string=query)

    assert response.status_code == 422
    assert set(response.json["errors"]["query"]) == {parameter}


def seed_records(client):
    create_mentor(client, "mentor-a")
    create_mentor(client, "mentor-b")
    create_pause(client, "mentor-a", start_date="2025-01-01", end_date="2025-02-01", reason="travel")
    create_pause(client, "mentor-b", start_date="2025-03-01", reason="illness")
    create_pause(client, "mentor-a", start_date="2025-04-01", reason="travel")


@pytest.mark.parametrize("query, expected", [
    ({}, ["0001", "0002", "0003"]),
    ({"mentor_id": "mentor-a"}, ["0001", "0003"]),
    ({"is_active": "true"}, ["0002", "0003"]),
    ({"is_active": "false"}, ["0001"]),
    ({"reason": "travel"}, ["0001", "0003"]),
    ({"reason": "travel", "is_active": "true", "mentor_id": "mentor-a"}, ["0003"]),
    ({"mentor_id": "nobody"}, []),
    ({"reason": "never_used"}, []),
])
def test_pause_record_filters_combine_in_sequence_order(client, query, expected):
    seed_records(client)

    response = client.get(RECORDS, query_string=query)

    assert [r["pause_record_id"][-4:] for r in response.json["data"]] == expected
    assert response.json["pagination"]["total"] == len(expected)


def test_every_combination_of_mentor_filters_pages_and_counts_what_the_mentors_say(client):
    """Each filter shape has SQL and a total of its own (queries.py): every combination, read page
    by page, gives the mentors a reading of every mentor picks, in order, and their exact number."""
    returns = ["2025-01-01T00:00:00Z", "2026-05-01T00:00:00Z", "2099-01-01T00:00:00Z", None]
    for number in range(24):
        status = ("active", "inactive", "paused")[number % 3]
        fields = {"status": status}
        if status == "paused" and returns[number % 4]:
            fields.update(pause_start_date="2024-01-01T00:00:00Z", expected_return_date=returns[number % 4])
        create_mentor(client, f"mentor-{number:03d}", **fields)
    everyone = client.get(MENTORS, query_string={"limit": 100}).json["data"]
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def picked(mentor, status, is_paused, before, overdue):
        returning = mentor["expected_return_date"]
        return ((status is None or mentor["status"] == status)
                and (is_paused is None or mentor["is_paused"] == (is_paused == "true"))
                and (before is None or (returning is not None and returning < before))
                and (overdue is None or (mentor["is_paused"] and returning is not None and returning < now)
                     == (overdue == "true")))

    for status, is_paused, before, overdue in itertools.product(
            (None, "active", "inactive", "paused"), (None, "true", "false"), (None, "2026-06-01T00:00:00Z"),
            (None, "true", "false")):
        query = {name: value for name, value in (("status", status), ("is_paused", is_paused),
                                                 ("expected_return_before", before), ("overdue", overdue)) if value}
        expected = [mentor["mentor_id"] for mentor in everyone if picked(mentor, status, is_paused, before, overdue)]
        listed, page = [], 1
        while True:
            body = client.get(MENTORS, query_string={**query, "limit": 5, "page": page}).json
            listed += [mentor["mentor_id"] for mentor in body["data"]]
            if page * 5 >= body["pagination"]["total"]:
                break
            page += 1
        assert (listed, body["pagination"]["total"]) == (expected, len(expected)), query
