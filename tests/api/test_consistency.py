"""The rule "the two resources stay consistent" (docs/api.md): every transition, checked on both resources."""
import datetime as dt

import pytest
from factories import assert_consistent, create_mentor, create_pause, get_mentor, list_pauses

from mentor_status_service.changes import log as change_log
from mentor_status_service.changes.models import ChangeEntry, ChangeLogHead
from mentor_status_service.errors import Conflict
from mentor_status_service.pausing import reason_totals, rules, totals
from mentor_status_service.pausing.models import ListTotals, ListTotalsDelta, MentorStatus, PauseRecord

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


class WriteFailedLate(Exception):
    """Raised by the write's very last statement, once everything else of it is in the tables."""


def table_rows(model):
    return sorted(model.select().tuples())


def database_contents():
    return {model.__name__: table_rows(model) for model in (MentorStatus, PauseRecord, ChangeEntry, ChangeLogHead,
                                                            ListTotals, ListTotalsDelta)}


@pytest.mark.parametrize("write", [
    lambda: rules.create_mentor_status({"mentor_id": "mentor-002", "status": "paused", "pause_reason": "travel"}),
    lambda: rules.update_mentor_status("mentor-001", {"status": "paused", "pause_reason": "travel"}),
    lambda: rules.create_pause_record({"mentor_id": "mentor-001", "reason": "travel"}),
    lambda: rules.update_pause_record("pause-rec-0001", {"end_date": None}),
    lambda: rules.delete_pause_record("pause-rec-0001"),
    lambda: rules.delete_mentor_status("mentor-001"),
], ids=["create-mentor", "pause-mentor", "create-record", "reopen-record", "delete-record", "delete-mentor"])
def test_rule_a_write_failing_after_its_inserts_leaves_nothing_behind(app, monkeypatch, write):
    rules.create_mentor_status({"mentor_id": "mentor-001"})
    rules.create_pause_record({"mentor_id": "mentor-001", "start_date": dt.datetime(2025, 1, 1),
                                 "end_date": dt.datetime(2025, 2, 1)})
    before = database_contents()
    written = {}
    real_append = change_log._append

    def append_then_fail(entries):
        real_append(entries)  # the write's last INSERT, after its mentor, pause and totals rows
        written.update(database_contents())
        raise WriteFailedLate()

    monkeypatch.setattr(change_log, "_append", append_then_fail)

    with pytest.raises(WriteFailedLate):
        write()

    assert written["ChangeEntry"] != before["ChangeEntry"]  # the failure came after rows were written
    assert written["ListTotalsDelta"] != before["ListTotalsDelta"] or written["PauseRecord"] != before["PauseRecord"]
    assert database_contents() == before  # ... and the transaction took every one of them back


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


@pytest.mark.parametrize("write", ["post", "put"])
def test_a_mentor_pause_starting_later_is_refused_and_points_to_pause_records(client, write):
    if write == "put":
        create_mentor(client)
        response = client.put(MENTOR, json={"status": "paused", "pause_start_date": "2999-01-01"})
    else:
        response = client.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-001", "status": "paused",
                                                                "pause_start_date": "2999-01-01"})

    assert response.status_code == 422
    assert "pause record" in response.json["errors"]["json"]["pause_start_date"][0]
    assert list_pauses(client) == []


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
    writes = [  # every write that changes the mentor, as (write, status it answers)
        (lambda: client.put(MENTOR, json={"metadata": {"team": "a"}}), 200),
        (lambda: client.post("/api/v1/pause-records", json={"mentor_id": "mentor-001"}), 201),
        (lambda: client.put(RECORD, json={"reason": "travel"}), 200),
        (lambda: client.put(MENTOR, json={"pause_reason": "illness"}), 200),
        (lambda: client.put(RECORD, json={"is_active": False}), 200),
        (lambda: client.put(RECORD, json={"is_active": True}), 200),
        (lambda: client.delete(RECORD), 200),
        (lambda: client.put(MENTOR, json={"status": "paused"}), 200),
        (lambda: client.put(MENTOR, json={"status": "inactive"}), 200),
    ]
    for write, status in writes:
        MentorStatus.update(last_updated="2020-01-01 00:00:00").execute()
        response = write()
        assert response.status_code == status, response.json
        assert get_mentor(client)["last_updated"] > "2020-01-01T00:00:00Z", response.request.path


def assert_wrote(response, status, shows):
    """The write answered `status` with a body that shows the fields of `shows`."""
    assert response.status_code == status, response.json
    assert {name: response.json.get(name) for name in shows} == shows, response.json


def test_list_totals_stay_exact_through_every_kind_of_write(client, runner):
    def assert_totals_exact():
        kept = totals.Recounted(totals.read(), reason_totals.read_all())
        assert totals.recount() == kept
        for reason, count in kept.reasons.items():  # what a reason's list shows, read back from the totals
            assert client.get(records, query_string={"reason": reason}).json["pagination"]["total"] == count

    def post(path, **body):
        return client.post(path, json=body)

    mentors, records = "/api/v1/mentor-statuses", "/api/v1/pause-records"
    writes = [  # each a real write of its kind, as (response, status, fields its body shows)
        (lambda: post(mentors, mentor_id="a", **PAUSE), 201, {"status": "paused"}),
        (lambda: post(mentors, mentor_id="b", status="inactive"), 201, {"status": "inactive"}),
        (lambda: post(mentors, mentor_id="c"), 201, {"status": "active"}),
        (lambda: post(records, mentor_id="b", start_date="2025-01-01", end_date="2025-02-01", reason="illness"), 201,
         {"pause_record_id": "pause-rec-0002", "is_active": False}),
        (lambda: post(records, mentor_id="b", start_date="2026-01-01", expected_return_date="2026-01-10"), 201,
         {"pause_record_id": "pause-rec-0003", "is_active": True}),
        (lambda: post(records, mentor_id="c", start_date="2025-01-01", end_date="2025-02-01", reason="travel"), 201,
         {"pause_record_id": "pause-rec-0004", "is_active": False}),
        (lambda: client.put(f"{mentors}/c", json={"status": "paused"}), 200, {"status": "paused"}),
        (lambda: client.put(f"{mentors}/c", json={"status": "inactive"}), 200, {"status": "inactive"}),
        (lambda: client.put(f"{records}/pause-rec-0004", json={"end_date": None}), 200,
         {"is_active": True, "end_date": None}),  # reopening a past pause pauses c again
        (lambda: client.put(f"{records}/pause-rec-0003", json={"expected_return_date": "2026-01-20"}), 200,
         {"is_active": True, "expected_return_date": "2026-01-20T00:00:00Z"}),
        (lambda: client.put(f"{records}/pause-rec-0003", json={"reason": "travel"}), 200, {"reason": "travel"}),
        (lambda: client.put(f"{mentors}/c", json={"pause_reason": "illness"}), 200, {"pause_reason": "illness"}),
        (lambda: client.put(f"{mentors}/c", json={"pause_reason": None}), 200, {"pause_reason": None}),
        (lambda: client.put(f"{records}/pause-rec-0003", json={"reason": "workload"}), 200, {"reason": "workload"}),
        (lambda: client.delete(f"{mentors}/a"), 200, {"deleted": True}),
        (lambda: client.delete(f"{records}/pause-rec-0004"), 200, {"deleted": True}),  # c's active pause
        (lambda: client.delete(f"{records}/pause-rec-0002"), 200, {"deleted": True}),  # b's past pause
    ]
    for write, status, shows in writes:
        assert_wrote(write(), status, shows)
        assert_totals_exact()

    resumed = runner.invoke(args=["resume-due"])  # ends b's pause-rec-0003, expected back 2026-01-20
    assert resumed.exit_code == 0 and resumed.output.endswith("1 pause(s) ended\n"), resumed.output
    assert_totals_exact()

    assert [(m["mentor_id"], m["status"]) for m in client.get(mentors).json["data"]] == [("b", "active"),
                                                                                        ("c", "active")]
    assert [(r["pause_record_id"], r["is_active"]) for r in list_pauses(client)] == [
        ("pause-rec-0003", False), ("pause-rec-0005", False)]
    assert_consistent(client)
