"""SPEC's "the two resources stay consistent": every transition, checked on both resources."""
import pytest
from factories import assert_consistent, create_mentor, create_pause, get_mentor, list_pauses

from mentor_status_service import rules, totals
from mentor_status_service.errors import Conflict, Invalid
from mentor_status_service.models import ListTotals, MentorStatus, PauseRecord

MENTOR = "/api/v1/mentor-statuses/mentor-001"
RECORD = "/api/v1/pause-records/pause-rec-0001"
PAUSE = {"status": "paused", "pause_start_date": "2026-03-01T00:00:00Z",
         "expected_return_date": "2026-04-01T00:00:00Z", "pause_reason": "personal_leave"}


# The rules, called directly

def test_rule_pausing_a_mentor_opens_one_active_record(app):
    rules.create_mentor_status({"mentor_id": "mentor-001"})

    mentor = rules.update_mentor_status("mentor-001", {"is_paused": True, "pause_reason": "travel"})

    record = PauseRecord.get(PauseRecord.mentor == "mentor-001")
    assert mentor.status == "paused" and mentor.active_pause.id == record.id
    assert record.end_date is None and record.reason == "travel"


def test_rule_a_second_active_pause_is_a_conflict(app):
    rules.create_mentor_status({"mentor_id": "mentor-001", "status": "paused"})

    with pytest.raises(Conflict):
        rules.create_pause_record({"mentor_id": "mentor-001"})
    assert PauseRecord.select().count() == 1


def test_rule_a_failed_write_leaves_nothing_behind(app):
    with pytest.raises(Invalid):
        rules.create_mentor_status({"mentor_id": "mentor-001", "status": "active", "pause_reason": "travel"})

    assert MentorStatus.select().count() == 0


# The same rules over HTTP

def test_pausing_by_put_opens_an_active_record_with_the_mentor_fields(client):
    create_mentor(client)

    mentor = client.put(MENTOR, json=PAUSE).json

    [record] = list_pauses(client)
    assert mentor["status"] == "paused" and mentor["is_paused"] is True
    assert (record["start_date"], record["expected_return_date"], record["reason"], record["is_active"]) == (
        PAUSE["pause_start_date"], PAUSE["expected_return_date"], PAUSE["pause_reason"], True)
    assert_consistent(client)


def test_changing_a_paused_mentors_pause_fields_changes_its_active_record(client):
    create_mentor(client, **PAUSE)

    client.put(MENTOR, json={"expected_return_date": "2026-06-01", "pause_reason": "illness"})

    [record] = list_pauses(client)
    assert (record["expected_return_date"], record["reason"]) == ("2026-06-01T00:00:00Z", "illness")
    assert record["start_date"] == PAUSE["pause_start_date"]
    assert_consistent(client)


def test_changing_the_active_record_changes_the_mentor(client):
    create_mentor(client, **PAUSE)

    client.put(RECORD, json={"start_date": "2026-02-01", "expected_return_date": None, "reason": "travel"})

    mentor = get_mentor(client)
    assert (mentor["pause_start_date"], mentor["expected_return_date"], mentor["pause_reason"]) == (
        "2026-02-01T00:00:00Z", None, "travel")
    assert_consistent(client)


def test_clearing_a_paused_mentors_start_date_is_422(client):
    create_mentor(client, **PAUSE)

    response = client.put(MENTOR, json={"pause_start_date": None})

    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"pause_start_date"}
    assert get_mentor(client)["pause_start_date"] == PAUSE["pause_start_date"]


@pytest.mark.parametrize("leave, status", [
    ({"status": "active"}, "active"),
    ({"status": "inactive"}, "inactive"),
    ({"is_paused": False}, "active"),
    ({"status": "active", "pause_start_date": None, "expected_return_date": None, "pause_reason": None}, "active"),
])
def test_leaving_paused_closes_the_record_and_clears_the_pause_fields(client, leave, status):
    create_mentor(client, **PAUSE)

    mentor = client.put(MENTOR, json=leave).json

    assert (mentor["status"], mentor["is_paused"]) == (status, False)
    assert mentor["pause_start_date"] is mentor["expected_return_date"] is mentor["pause_reason"] is None
    [record] = list_pauses(client)
    assert record["is_active"] is False and record["end_date"] is not None
    assert record["reason"] == PAUSE["pause_reason"]
    assert_consistent(client)


def test_leaving_paused_with_a_non_null_pause_field_is_422_and_keeps_the_pause(client):
    create_mentor(client, **PAUSE)

    response = client.put(MENTOR, json={"status": "active", "pause_reason": "travel"})

    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"pause_reason"}
    assert list_pauses(client)[0]["is_active"] is True
    assert_consistent(client)


def test_is_paused_false_keeps_an_inactive_mentor_inactive(client):
    create_mentor(client, status="inactive")

    assert client.put(MENTOR, json={"is_paused": False}).json["status"] == "inactive"


def test_closing_a_pause_that_starts_in_the_future_ends_it_at_its_start(client):
    create_mentor(client, status="paused", pause_start_date="2999-01-01")

    client.put(MENTOR, json={"status": "active"})

    assert list_pauses(client)[0]["end_date"] == "2999-01-01T00:00:00Z"


@pytest.mark.parametrize("before", ["active", "inactive"])
def test_opening_a_pause_record_pauses_the_mentor_with_its_fields(client, before):
    create_mentor(client, status=before)

    record = create_pause(client, start_date="2026-03-01", expected_return_date="2026-03-20", reason="travel")

    mentor = get_mentor(client)
    assert (mentor["status"], mentor["is_paused"]) == ("paused", True)
    assert (mentor["pause_start_date"], mentor["expected_return_date"], mentor["pause_reason"]) == (
        record["start_date"], record["expected_return_date"], record["reason"])
    assert_consistent(client)


def test_reopening_a_record_pauses_the_mentor_again(client):
    create_mentor(client, status="inactive")
    create_pause(client, start_date="2025-01-01", end_date="2025-02-01", reason="travel")

    client.put(RECORD, json={"is_active": True})

    mentor = get_mentor(client)
    assert mentor["status"] == "paused" and mentor["pause_reason"] == "travel"
    assert_consistent(client)


@pytest.mark.parametrize("before", ["active", "inactive"])
@pytest.mark.parametrize("close", [
    lambda client: client.put(RECORD, json={"is_active": False}),
    lambda client: client.put(RECORD, json={"end_date": "2026-03-15"}),
    lambda client: client.delete(RECORD),
], ids=["is_active-false", "end_date", "delete"])
def test_closing_or_deleting_the_active_record_makes_the_mentor_active(client, before, close):
    create_mentor(client, status=before)
    create_pause(client, start_date="2026-03-01")

    assert close(client).status_code == 200

    mentor = get_mentor(client)
    assert (mentor["status"], mentor["is_paused"], mentor["pause_start_date"]) == ("active", False, None)
    assert_consistent(client)


def test_deleting_a_past_record_changes_nothing_else(client):
    create_mentor(client, **PAUSE)
    create_pause(client, start_date="2025-01-01", end_date="2025-02-01")
    before = get_mentor(client)

    assert client.delete("/api/v1/pause-records/pause-rec-0002").status_code == 200

    assert get_mentor(client) == before
    assert_consistent(client)


@pytest.mark.parametrize("change", [{}, {"reason": "travel"}, {"is_active": True}])
def test_a_record_put_that_changes_nothing_keeps_the_mentors_last_updated(client, change):
    create_mentor(client)
    create_pause(client, reason="travel")
    MentorStatus.update(last_updated="2020-01-01 00:00:00").execute()

    assert client.put(RECORD, json=change).status_code == 200

    assert get_mentor(client)["last_updated"] == "2020-01-01T00:00:00Z"


def test_every_write_moves_last_updated(client):
    create_mentor(client)
    for write in (lambda: create_pause(client), lambda: client.put(RECORD, json={"reason": "travel"}),
                  lambda: client.put(RECORD, json={"is_active": False})):
        MentorStatus.update(last_updated="2020-01-01 00:00:00").execute()
        write()
        assert get_mentor(client)["last_updated"] > "2020-01-01T00:00:00Z"


def test_list_totals_stay_exact_through_every_kind_of_write(client, runner):
    create_mentor(client, "a", **PAUSE)
    create_mentor(client, "b", status="inactive")
    create_mentor(client, "c")
    create_pause(client, "b", start_date="2025-01-01", end_date="2025-02-01")
    create_pause(client, "b", start_date="2026-01-01", expected_return_date="2026-01-10")
    create_pause(client, "c", start_date="2025-01-01", end_date="2025-02-01")
    client.put("/api/v1/pause-records/pause-rec-0002", json={"is_active": True})
    client.put("/api/v1/mentor-statuses/c", json={"status": "paused"})
    client.put("/api/v1/mentor-statuses/c", json={"status": "inactive"})
    client.delete("/api/v1/mentor-statuses/a")
    client.put("/api/v1/pause-records/pause-rec-0003", json={"end_date": None})
    runner.invoke(args=["resume-due"])
    client.delete("/api/v1/pause-records/pause-rec-0004")
    kept = ListTotals.select().dicts().get()

    totals.recount()

    assert ListTotals.select().dicts().get() == kept
    assert_consistent(client)
