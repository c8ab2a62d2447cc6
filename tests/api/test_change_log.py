"""The change log: the entries each write appends, the feed, erasure and retention (each mentor's
history: test_history.py)."""
import datetime as dt

import pytest
from factories import create_mentor, create_pause, get_mentor

from mentor_status_service.changes import log as change_log
from mentor_status_service.changes.models import ChangeEntry, ChangeLogHead

MENTORS = "/api/v1/mentor-statuses"
RECORDS = "/api/v1/pause-records"
CHANGES = "/api/v1/changes"


def feed(client, **params):
    response = client.get(CHANGES, query_string={"limit": 1000, **params})
    assert response.status_code == 200, response.json
    return response.json


def new_entries(client, action):
    """The entries that `action()` appended, as (resource, id, event) and in full."""
    after = feed(client)["next_after"]
    result = action()
    entries = feed(client, after=after)["data"]
    return result, entries


def summary(entries):
    return [(entry["resource"], entry["id"], entry["event"]) for entry in entries]


def record(client, number=1):
    return client.get(f"{RECORDS}/pause-rec-{number:04d}").json


# What each write appends

def test_creating_a_mentor_appends_one_created_entry_with_its_representation(client):
    response, entries = new_entries(client, lambda: client.post(
        MENTORS, json={"mentor_id": "mentor-001"}, headers={"X-Request-ID": "req-create-1"}))

    [entry] = entries
    assert entry["resource"] == "mentor_status" and entry["id"] == entry["mentor_id"] == "mentor-001"
    assert entry["event"] == "created" and entry["before"] is None and entry["after"] == response.json
    assert entry["actor"] == "anonymous" and entry["request_id"] == "req-create-1"
    assert entry["change_id"] == 1 and entry["at"].endswith("Z")


def test_creating_a_paused_mentor_appends_the_mentor_and_its_pause_record(client):
    response, entries = new_entries(client, lambda: client.post(
        MENTORS, json={"mentor_id": "mentor-001", "status": "paused", "pause_reason": "travel"}))

    assert summary(entries) == [("mentor_status", "mentor-001", "created"),
                                ("pause_record", "pause-rec-0001", "created")]
    assert entries[0]["after"] == response.json and entries[1]["after"] == record(client)
    assert len({entry["request_id"] for entry in entries}) == 1


@pytest.mark.parametrize("change, expected", [
    ({"status": "paused"}, [("mentor_status", "mentor-001", "updated"), ("pause_record", "pause-rec-0001", "created")]),
    ({"metadata": {"notes": "x"}}, [("mentor_status", "mentor-001", "updated")]),
    ({"status": "inactive"}, [("mentor_status", "mentor-001", "updated")]),
])
def test_put_on_an_active_mentor_appends_what_it_changed(client, change, expected):
    before = create_mentor(client)

    response, entries = new_entries(client, lambda: client.put(f"{MENTORS}/mentor-001", json=change))

    assert summary(entries) == expected
    assert entries[0]["before"] == before and entries[0]["after"] == response.json == get_mentor(client)


@pytest.mark.parametrize("change, record_event", [
    ({"status": "active"}, "updated"),
    ({"expected_return_date": "2026-12-24"}, "updated"),
])
def test_put_on_a_paused_mentor_changes_both_resources_and_appends_both(client, change, record_event):
    create_mentor(client, status="paused")
    record_before = record(client)

    _, entries = new_entries(client, lambda: client.put(f"{MENTORS}/mentor-001", json=change))

    assert summary(entries) == [("mentor_status", "mentor-001", "updated"),
                                ("pause_record", "pause-rec-0001", record_event)]
    assert entries[1]["before"] == record_before and entries[1]["after"] == record(client)


def test_pause_record_writes_append_the_record_and_the_mentor_they_move(client):
    create_mentor(client)

    _, opened = new_entries(client, lambda: create_pause(client))
    _, edited = new_entries(client, lambda: client.put(f"{RECORDS}/pause-rec-0001", json={"reason": "travel"}))
    _, closed = new_entries(client, lambda: client.put(f"{RECORDS}/pause-rec-0001", json={"is_active": False}))
    _, reopened = new_entries(client, lambda: client.put(f"{RECORDS}/pause-rec-0001", json={"is_active": True}))
    _, deleted = new_entries(client, lambda: client.delete(f"{RECORDS}/pause-rec-0001"))

    both = [("pause_record", "pause-rec-0001", "updated"), ("mentor_status", "mentor-001", "updated")]
    assert summary(opened) == [("pause_record", "pause-rec-0001", "created"), both[1]]
    assert summary(edited) == summary(closed) == summary(reopened) == both
    assert closed[0]["after"]["is_active"] is False and closed[1]["after"]["status"] == "active"
    assert summary(deleted) == [("pause_record", "pause-rec-0001", "deleted"),
                                ("mentor_status", "mentor-001", "updated")]
    assert deleted[0]["before"]["pause_record_id"] == "pause-rec-0001" and deleted[0]["after"] is None


def test_a_past_pause_appends_only_its_record(client):
    create_mentor(client)

    _, entries = new_entries(client, lambda: create_pause(client, start_date="2025-01-01", end_date="2025-02-01"))

    assert summary(entries) == [("pause_record", "pause-rec-0001", "created")]


def test_resume_due_appends_as_a_job(client, runner):
    create_mentor(client, status="paused", pause_start_date="2025-01-01", expected_return_date="2025-02-01")

    _, entries = new_entries(client, lambda: runner.invoke(args=["resume-due"]))

    assert summary(entries) == [("pause_record", "pause-rec-0001", "updated"),
                                ("mentor_status", "mentor-001", "updated")]
    assert {entry["actor"] for entry in entries} == {"job:resume-due"}
    assert entries[0]["request_id"] == entries[1]["request_id"] != "-"
    assert entries[0]["after"]["end_date"] == "2025-02-01T00:00:00Z"


@pytest.mark.parametrize("method, path, body, code", [
    ("PUT", f"{MENTORS}/mentor-001", {}, 200),
    ("PUT", f"{MENTORS}/mentor-001", {"status": "paused"}, 200),
    ("PUT", f"{RECORDS}/pause-rec-0001", {"reason": "travel"}, 200),
    ("PUT", f"{MENTORS}/mentor-001", {"status": "inactive", "pause_reason": "travel"}, 422),
    ("POST", MENTORS, {"mentor_id": "mentor-001"}, 409),
    ("POST", RECORDS, {"mentor_id": "mentor-001"}, 409),
    ("PUT", f"{RECORDS}/pause-rec-0001", {"start_date": "2027-01-01"}, 422),
    ("DELETE", f"{MENTORS}/mentor-404", None, 404),
])
def test_a_write_that_changes_nothing_or_fails_appends_nothing(client, method, path, body, code):
    create_mentor(client, status="paused", pause_reason="travel", expected_return_date="2026-12-31")
    before = feed(client)

    response = client.open(path, method=method, json=body)

    assert response.status_code == code, response.json  # a no-op answers 200, a failure its own error
    assert feed(client) == before


# Erasure

def test_deleting_a_mentor_erases_its_entries_and_says_each_of_its_resources_is_gone(client):
    create_mentor(client, "mentor-001")
    create_mentor(client, "mentor-002")
    create_pause(client, "mentor-001", start_date="2025-01-01", end_date="2025-02-01")
    create_pause(client, "mentor-001")
    client.delete(f"{RECORDS}/pause-rec-0001")

    client.delete(f"{MENTORS}/mentor-001")

    entries = feed(client)["data"]
    about_001 = [entry for entry in entries if entry["mentor_id"] == "mentor-001"]
    assert summary(about_001) == [("pause_record", "pause-rec-0001", "deleted"),
                                  ("pause_record", "pause-rec-0002", "deleted"),
                                  ("mentor_status", "mentor-001", "deleted")]
    assert all(entry["before"] is None and entry["after"] is None for entry in about_001)
    assert summary(entry for entry in entries if entry["mentor_id"] == "mentor-002") == [
        ("mentor_status", "mentor-002", "created")]
    assert ChangeEntry.select().where(ChangeEntry.mentor_id == "mentor-001").count() == 3


def test_a_mentor_created_again_shows_the_erasure_of_its_predecessor_in_its_history(client):
    create_mentor(client, metadata={"name": "first"})
    client.delete(f"{MENTORS}/mentor-001")
    create_mentor(client)

    history = client.get(f"{MENTORS}/mentor-001/history").json["data"]

    assert summary(history) == [("mentor_status", "mentor-001", "created"), ("mentor_status", "mentor-001", "deleted")]
    assert "first" not in str(history)


# Retention

def age_entries(days, through):
    change_log.number_committed_entries()  # as any reader of the feed would have
    long_ago = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0) - dt.timedelta(days=days)
    ChangeEntry.update(at=long_ago).where(ChangeEntry.change_id <= through).execute()


def test_prune_deletes_old_entries_and_a_cursor_before_them_is_410_with_the_head(client, runner):
    for number in range(1, 5):
        create_mentor(client, f"mentor-{number:03d}")
    age_entries(40, through=2)

    result = runner.invoke(args=["changes", "prune", "--older-than", "30"])

    assert result.exit_code == 0 and "pruned 2 change entries" in result.output
    assert [entry["change_id"] for entry in feed(client, after=2)["data"]] == [3, 4]
    for after in (0, 1):
        gone = client.get(CHANGES, query_string={"after": after})
        assert gone.status_code == 410
        assert gone.json["head"] == 4 and gone.json["code"] == 410 and gone.json["message"]
    assert ChangeLogHead.get_by_id(1).pruned_through == 2


def test_prune_with_nothing_old_enough_changes_nothing(client, runner):
    create_mentor(client)

    result = runner.invoke(args=["changes", "prune", "--older-than", "1"])

    assert "pruned 0 change entries" in result.output and feed(client)["data"]


def test_erasure_never_causes_a_410(client):
    create_mentor(client)
    assert client.delete(f"{MENTORS}/mentor-001").status_code == 200

    response = client.get(CHANGES, query_string={"after": 0})

    assert response.status_code == 200
    assert summary(response.json["data"]) == [("mentor_status", "mentor-001", "deleted")]


# The feed

def test_the_feed_pages_with_next_after_and_a_next_link_keeping_filters(client):
    for number in range(1, 4):
        create_mentor(client, f"mentor-{number:03d}", status="paused")

    response = client.get(CHANGES, query_string={"resource": "pause_record", "limit": 2})
    body = response.json

    assert [entry["id"] for entry in body["data"]] == ["pause-rec-0001", "pause-rec-0002"]
    assert body["next_after"] == body["data"][-1]["change_id"] == 4
    assert response.headers["Link"] == f'<{CHANGES}?resource=pause_record&limit=2&after=4>; rel="next"'
    rest = feed(client, resource="pause_record", after=4)
    assert [entry["id"] for entry in rest["data"]] == ["pause-rec-0003"] and rest["next_after"] == 6
    assert feed(client, after=6) == {"data": [], "next_after": 6}


def test_the_feed_filters_by_mentor_and_is_served_at_the_contract_alias(client):
    create_mentor(client, "mentor-001")
    create_mentor(client, "mentor-002", status="paused")

    body = client.get(f"{MENTORS}{CHANGES}", query_string={"mentor_id": "mentor-002"}).json

    assert summary(body["data"]) == [("mentor_status", "mentor-002", "created"),
                                     ("pause_record", "pause-rec-0001", "created")]


@pytest.mark.parametrize("params, field", [
    ({"after": "-1"}, "after"), ({"after": "x"}, "after"), ({"after": "1.5"}, "after"),
    ({"after": str(2**63)}, "after"), ({"limit": "0"}, "limit"), ({"limit": "1001"}, "limit"),
    ({"resource": "mentor"}, "resource"), ({"mentor_id": "-bad"}, "mentor_id"), ({"since": "1"}, "since"),
])
def test_a_bad_feed_parameter_is_422_naming_it(client, params, field):
    response = client.get(CHANGES, query_string=params)

    assert response.status_code == 422
    assert list(response.json["errors"]["query"]) == [field]


def test_polling_the_feed_with_its_etag_is_304_until_something_changes(client):
    create_mentor(client)
    first = client.get(CHANGES, query_string={"after": 1})

    unchanged = client.get(CHANGES, query_string={"after": 1}, headers={"If-None-Match": first.headers["ETag"]})
    create_mentor(client, "mentor-002")
    changed = client.get(CHANGES, query_string={"after": 1}, headers={"If-None-Match": first.headers["ETag"]})

    assert unchanged.status_code == 304
    assert changed.status_code == 200 and [entry["id"] for entry in changed.json["data"]] == ["mentor-002"]
