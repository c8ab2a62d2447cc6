"""Sorted lists and cursor pages: every sort key and direction, with the filters, by page and by
cursor, against an order computed here from the rows themselves; cursors that are not this
list's; and cursor walks while another thread writes."""
import base64
import itertools
import random
import threading

import pytest
from factories import create_mentor, create_pause
from servers import wait_until

from mentor_status_service.db import database
from mentor_status_service.pausing import few_paused
from mentor_status_service.pausing.models import MENTOR_SORT_KEYS, PAUSE_RECORD_SORT_KEYS
from mentor_status_service.pausing.schemas import MentorStatusListArgsSchema, PauseRecordListArgsSchema, WindowField

MENTORS = "/api/v1/mentor-statuses"
RECORDS = "/api/v1/pause-records"


def seed(client, app):
    """Mentors and pause records whose sortable values differ, tie and are null, in every status."""
    returns = ["2026-05-01T00:00:00Z", "2026-03-01T00:00:00Z", None, "2026-05-01T00:00:00Z", "2030-01-01T00:00:00Z"]
    starts = ["2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z", "2026-01-01T00:00:00Z"]
    # Ids whose byte order is not their alphabetical order.
    ids = ["b", "B", "a", "A-1", "A.1", "A_1", "A@1", "10", "9", "Z", "z", "m:1", "m-2", "M3"]
    for number, mentor_id in enumerate(ids):
        status = ("paused", "active", "inactive", "paused")[number % 4]
        fields = {"status": status}
        if status == "paused":
            fields.update(pause_start_date=starts[number % 3], pause_reason="personal_leave" if number % 3 else None)
            if returns[number % 5]:
                fields["expected_return_date"] = returns[number % 5]
        create_mentor(client, mentor_id, **fields)
    for number, mentor_id in enumerate(ids[:8]):
        end = "2025-03-01T00:00:00Z" if number % 2 else None
        create_pause(client, mentor_id, start_date=f"2025-0{1 + number % 2}-01T00:00:00Z", end_date=end or
                     "2025-02-15T00:00:00Z", expected_return_date=None if number % 3 else "2025-06-01T00:00:00Z",
                     reason="travel" if number % 2 else "illness")
    with app.app_context():
        # Creation and update times the API cannot set: some apart, some the same second.
        for number, mentor_id in enumerate(ids):
            database.execute_sql(
                "UPDATE mentor_status SET created_at = ?, last_updated = ? WHERE mentor_id = ?".replace(
                    "?", database.param),
                (f"2026-0{1 + number % 3}-01 00:00:00", f"2026-0{1 + number % 4}-0{1 + number % 2} 00:00:00",
                 mentor_id))
        database.execute_sql("UPDATE pause_record SET created_at = start_date WHERE MOD(id, 3) = 0")
        database.close()


def everything(client, path):
    rows, url = [], f"{path}?limit=100"
    while url:
        body = client.get(url).json
        rows += body["data"]
        url = body["pagination"]["next_cursor"] and f"{path}?limit=100&cursor={body['pagination']['next_cursor']}"
    return rows


def expected_order(rows, sort, tie):
    """`rows` in the order docs/api.md gives `sort`: by value, ties by `tie`, both in the sort's direction;
    nulls last."""
    descending, key = sort.startswith("-"), sort.lstrip("-")
    valued = sorted((row for row in rows if row[key] is not None), key=lambda row: (row[key], tie(row)),
                    reverse=descending)
    nulls = sorted((row for row in rows if row[key] is None), key=tie, reverse=descending)
    return valued + nulls


def mentor_tie(row):
    return row["mentor_id"].encode()


def record_tie(row):
    return int(row["pause_record_id"].removeprefix("pause-rec-"))


MENTOR_FILTERS = [
    {}, {"status": "paused"}, {"status": "active"}, {"is_paused": "false"}, {"is_paused": "true"}, {"overdue": "true"},
    {"overdue": "false"}, {"expected_return_before": "2026-04-01"}, {"status": "inactive", "overdue": "false"},
    {"is_paused": "true", "overdue": "false", "expected_return_before": "2031-01-01"},
]
RECORD_FILTERS = [{}, {"is_active": "true"}, {"is_active": "false"}, {"reason": "travel"}, {"mentor_id": "b"},
                  {"reason": "illness", "is_active": "false"}, {"state": "active"}, {"state": "ended"},
                  {"state": "scheduled"}]


def mentor_picked(row, filters, now="2026-12-06T00:00:00Z"):
    returning = row["expected_return_date"]
    overdue = row["is_paused"] and returning is not None and returning < now
    return ((filters.get("status") in (None, row["status"]))
            and (filters.get("is_paused") is None or row["is_paused"] == (filters["is_paused"] == "true"))
            and ("expected_return_before" not in filters or (
                returning is not None and returning < filters["expected_return_before"] + "T00:00:00Z"))
            and (filters.get("overdue") is None or overdue == (filters["overdue"] == "true")))


def record_picked(row, filters):
    return ((filters.get("is_active") is None or row["is_active"] == (filters["is_active"] == "true"))
            and filters.get("reason") in (None, row["reason"]) and filters.get("mentor_id") in (None, row["mentor_id"])
            and filters.get("state") in (None, row["state"]))


@pytest.mark.parametrize("schema, crossed", [(MentorStatusListArgsSchema, MENTOR_FILTERS),
                                             (PauseRecordListArgsSchema, RECORD_FILTERS)])
def test_every_filter_a_list_takes_is_crossed_with_every_sort_here(schema, crossed):
    """A filter added to a list's schema fails here until the test below crosses it with every sort
    (the windows are crossed in test_windows.py, against their own computed lists)."""
    filters = {name for name, field in schema().fields.items() if not isinstance(field, WindowField)
               and name not in ("page", "limit", "cursor", "sort", "format", "key")}
    assert filters == {name for query in crossed for name in query}


def read_by_pages(client, path, query, limit=3):
    listed, page = [], 1
    while True:
        body = client.get(path, query_string={**query, "limit": limit, "page": page}).json
        listed += body["data"]
        if page * limit >= body["pagination"]["total"]:
            return listed, body["pagination"]["total"]
        page += 1


def read_by_cursor(client, path, query, limit=3):
    body = client.get(path, query_string={**query, "limit": limit}).json
    listed, totals = body["data"], {body["pagination"]["total"]}
    while body["pagination"]["next_cursor"]:
        response = client.get(path, query_string={**query, "limit": limit, "cursor": body["pagination"]["next_cursor"]})
        assert response.status_code == 200, response.json
        body = response.json
        assert set(body["pagination"]) == {"limit", "total", "next_cursor"}
        listed += body["data"]
        totals.add(body["pagination"]["total"])
    return listed, totals


@pytest.mark.parametrize("path, keys, filters, picked, tie", [
    (MENTORS, MENTOR_SORT_KEYS, MENTOR_FILTERS, mentor_picked, mentor_tie),
    (RECORDS, PAUSE_RECORD_SORT_KEYS, RECORD_FILTERS, record_picked, record_tie),
])
def test_every_sort_with_every_filter_lists_in_the_computed_order_by_page_and_by_cursor(
        client, app, path, keys, filters, picked, tie):
    seed(client, app)
    rows = everything(client, path)
    for sort in (*keys, *(f"-{key}" for key in keys)):
        for query in filters:
            listed = [row for row in rows if picked(row, query)]
            if sort.lstrip("-") == "pause_record_id":  # by sequence number
                expected = sorted(listed, key=tie, reverse=sort.startswith("-"))
            else:
                expected = expected_order(listed, sort, tie)
            by_page, total = read_by_pages(client, path, {**query, "sort": sort})
            by_cursor, totals = read_by_cursor(client, path, {**query, "sort": sort})
            assert by_page == expected, (sort, query)
            assert by_cursor == expected, (sort, query)
            assert total == len(expected) and totals == {len(expected)}, (sort, query)


def test_the_few_paused_mentors_not_overdue_are_read_from_their_pauses_or_walked_alike(client, app, monkeypatch):
    """`overdue=false` reads the paused mentors not overdue from the index of active pauses by return
    when the counts say they are few (queries.py), and walks the paused mentors in the sort's order
    otherwise: the same rows, in the same order, either way."""
    seed(client, app)
    rows = everything(client, MENTORS)
    read = few_paused.not_overdue
    found = []
    monkeypatch.setattr(few_paused, "not_overdue", lambda now: found.append(read(now)) or found[-1])
    for few in (few_paused.FEW_PAUSED, 0):
        monkeypatch.setattr(few_paused, "FEW_PAUSED", few)
        for sort, query in itertools.product((*MENTOR_SORT_KEYS, *(f"-{key}" for key in MENTOR_SORT_KEYS)),
                                             ({"overdue": "false"}, {"status": "paused", "overdue": "false"})):
            expected = expected_order([row for row in rows if mentor_picked(row, query)], sort, mentor_tie)
            by_cursor, totals = read_by_cursor(client, MENTORS, {**query, "sort": sort})
            assert (by_cursor, totals) == (expected, {len(expected)}), (sort, query, few)
        paused_not_overdue = {"is_paused": "true", "overdue": "false"}
        not_overdue = {row["mentor_id"] for row in rows if mentor_picked(row, paused_not_overdue)}
        read_from_pauses = {mentor_id for ids in found for mentor_id in ids}
        assert not_overdue and (read_from_pauses == not_overdue if few else not found)
        found.clear()


def test_mentors_sorted_by_expected_return_put_the_open_ended_last_in_both_directions(client):
    create_mentor(client, "later", status="paused", expected_return_date="2027-02-01")
    create_mentor(client, "open-ended", status="paused")
    create_mentor(client, "active")
    create_mentor(client, "sooner", status="paused", expected_return_date="2027-01-01")

    def ids(sort):
        return [row["mentor_id"] for row in client.get(MENTORS, query_string={"sort": sort}).json["data"]]

    assert ids("expected_return_date") == ["sooner", "later", "active", "open-ended"]
    assert ids("-expected_return_date") == ["later", "sooner", "open-ended", "active"]


@pytest.mark.parametrize("path", [MENTORS, RECORDS])
@pytest.mark.parametrize("sort", ["status", "mentor", "-", "--created_at", "created_at,mentor_id", "CREATED_AT",
                                  "created_at ", "+created_at", "metadata"])
def test_an_unknown_sort_is_422_naming_sort(client, path, sort):
    response = client.get(path, query_string={"sort": sort})

    assert response.status_code == 422
    assert list(response.json["errors"]["query"]) == ["sort"]


def test_links_keep_the_sort_and_a_cursor_page_links_next_by_cursor(client):
    for number in range(5):
        create_mentor(client, f"mentor-{number}")

    first = client.get(MENTORS, query_string={"sort": "-created_at", "status": "active", "limit": 2})
    cursor = first.json["pagination"]["next_cursor"]
    second = client.get(MENTORS, query_string={"sort": "-created_at", "status": "active", "limit": 2,
                                               "cursor": cursor})

    assert f"{MENTORS}?sort=-created_at&status=active&limit=2&page=2>; rel=\"next\"" in first.headers["Link"]
    assert second.headers["Link"] == (
        f'<{MENTORS}?sort=-created_at&status=active&limit=2>; rel="first", '
        f'<{MENTORS}?sort=-created_at&status=active&limit=2&cursor={second.json["pagination"]["next_cursor"]}>; '
        f'rel="next"')
    last = client.get(MENTORS, query_string={"sort": "-created_at", "status": "active", "limit": 2,
                                             "cursor": second.json["pagination"]["next_cursor"]})
    assert last.json["pagination"] == {"limit": 2, "total": 5, "next_cursor": None}
    assert 'rel="next"' not in last.headers["Link"]


def test_next_cursor_is_null_exactly_when_no_row_follows(client):
    for number in range(4):
        create_mentor(client, f"mentor-{number}")

    assert client.get(MENTORS, query_string={"limit": 4}).json["pagination"]["next_cursor"] is None
    assert client.get(MENTORS, query_string={"limit": 2, "page": 2}).json["pagination"]["next_cursor"] is None
    assert client.get(MENTORS, query_string={"limit": 3}).json["pagination"]["next_cursor"] is not None
    page_one = client.get(MENTORS, query_string={"limit": 1, "page": 3}).json
    after = client.get(MENTORS, query_string={"limit": 5, "cursor": page_one["pagination"]["next_cursor"]}).json
    assert [row["mentor_id"] for row in after["data"]] == ["mentor-3"]


def a_cursor(client, path=MENTORS, **query):
    for number in range(3):
        if path == MENTORS:
            create_mentor(client, f"mentor-{number}-{random.random()}", status="paused")
    if path == RECORDS and not client.get(RECORDS).json["data"]:
        create_mentor(client, "mentor-x", status="paused")
        create_mentor(client, "mentor-y", status="paused")
    cursor = client.get(path, query_string={"limit": 1, **query}).json["pagination"]["next_cursor"]
    assert cursor
    return cursor


def altered(cursor):
    middle = len(cursor) // 2
    return cursor[:middle] + ("A" if cursor[middle] != "A" else "B") + cursor[middle + 1:]


def reencoded(cursor, change):
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    return base64.urlsafe_b64encode(change(raw)).decode().rstrip("=")


@pytest.mark.parametrize("make_bad", [
    lambda client: altered(a_cursor(client)),
    lambda client: a_cursor(client)[:-3],
    lambda client: a_cursor(client)[:10],
    lambda client: a_cursor(client) + "A",
    lambda client: reencoded(a_cursor(client), lambda raw: raw.replace(b"mentor-", b"mentor_")),
    lambda client: reencoded(a_cursor(client), lambda raw: raw.split(b".")[0] + b"."),
    lambda client: reencoded(a_cursor(client), lambda raw: b"[1,2,3]." + raw.split(b".")[1]),
    lambda client: a_cursor(client, RECORDS),  # another list's
    lambda client: a_cursor(client, status="paused"),  # other filters
    lambda client: a_cursor(client, sort="-mentor_id"),  # another sort
    lambda client: a_cursor(client, sort="pause_start_date"),
    lambda client: "", lambda client: "not a cursor", lambda client: "%00", lambda client: "\u00e9\u00e9\u00e9\u00e9",
    lambda client: "\x00abc", lambda client: "x" * 5000, lambda client: "=" * 8,
    lambda client: base64.urlsafe_b64encode(b"null.null").decode(),
])
def test_a_cursor_not_made_for_this_list_filters_and_sort_is_422_naming_cursor(client, make_bad):
    cursor = make_bad(client)

    response = client.get(MENTORS, query_string={"limit": 1, "cursor": cursor})

    assert response.status_code == 422, response.json
    assert list(response.json["errors"]["query"]) == ["cursor"]


def test_a_cursor_of_the_mentors_is_refused_by_the_pause_records_and_with_page(client):
    cursor = a_cursor(client)

    for query in ({"cursor": cursor}, {"cursor": cursor, "page": 1}, {"cursor": a_cursor(client, RECORDS),
                                                                       "page": 2}):
        response = client.get(RECORDS, query_string=query)
        assert response.status_code == 422 and list(response.json["errors"]["query"]) == ["cursor"], query
    assert client.get(MENTORS, query_string={"cursor": cursor, "page": 1}).status_code == 422


@pytest.mark.parametrize("path, sort", [(MENTORS, None), (MENTORS, "-last_updated"), (MENTORS, "expected_return_date"),
                                        (RECORDS, None), (RECORDS, "-start_date"), (RECORDS, "end_date")])
def test_a_cursor_walk_sees_every_row_that_stayed_exactly_once_while_others_are_written(client, app, path, sort):
    """A writer thread creates, updates and deletes its own mentors and pauses all through the walk;
    the rows it never touches are each listed once, in order."""
    stable = [f"stable-{number:03d}" for number in range(40)]
    for number, mentor_id in enumerate(stable):
        create_mentor(client, mentor_id, status="paused", expected_return_date=f"2027-0{1 + number % 9}-01")
        create_pause(client, mentor_id, start_date="2026-01-01", end_date=f"2026-0{1 + number % 9}-02")
    query = {"sort": sort} if sort else {}
    expected = [row for row in everything_sorted(client, path, query)
                if row["mentor_id"].startswith("stable-")]
    stop, errors, written, writer_client = threading.Event(), [], [], app.test_client()

    def write():
        number = 0
        try:
            while not stop.is_set():
                mentor_id = f"moving-{number:04d}"
                number += 1
                written.append(mentor_id)
                assert writer_client.post(MENTORS, json={"mentor_id": mentor_id, "status": "paused",
                                                         "expected_return_date": "2027-03-01"}).status_code == 201
                assert writer_client.post(RECORDS, json={"mentor_id": mentor_id, "start_date": "2026-01-01",
                                                         "end_date": "2026-03-02"}).status_code == 201
                assert writer_client.put(f"{MENTORS}/{mentor_id}", json={
                    "expected_return_date": "2027-05-01"}).status_code == 200
                if number % 2:
                    assert writer_client.delete(f"{MENTORS}/moving-{number - 2:04d}").status_code in (200, 404)
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        seen, body = [], client.get(path, query_string={**query, "limit": 3}).json
        while True:
            seen += body["data"]
            if not body["pagination"]["next_cursor"]:
                break
            if len(seen) > 60:
                stop.set()  # rows created behind the walk could outrun it: the rest is read unhindered
            else:
                pages = len(seen) // 3
                wait_until(lambda: len(written) > pages or errors, 5, interval=0.002, message="the writer")
            response = client.get(path, query_string={**query, "limit": 3, "cursor": body["pagination"]["next_cursor"]})
            assert response.status_code == 200, response.json
            body = response.json
    finally:
        stop.set()
        writer.join()
    assert not errors, errors
    assert len(written) >= 10, "the writer hardly ran during the walk"
    key = "mentor_id" if path == MENTORS else "pause_record_id"
    assert [row[key] for row in seen if row["mentor_id"].startswith("stable-")] == [row[key] for row in expected]
    if path == RECORDS or sort is None:
        # No row here changed its sort value (the writer's PUT moves a mentor's last_updated and
        # expected_return_date only): none is listed twice, the ones created meanwhile included.
        assert len({row[key] for row in seen}) == len(seen)


def everything_sorted(client, path, query):
    listed, _ = read_by_cursor(client, path, query, limit=100)
    return listed
