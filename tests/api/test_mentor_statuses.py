import pytest
from factories import assert_get_put_delete, create_mentor, create_pause, get_mentor, list_pauses

from mentor_status_service.pausing.models import MentorStatus, PauseRecord

# Also through PgBouncer in transaction pooling mode, as behind Heroku's connection pooler.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql", "pgbouncer"], indirect=True)

CANONICAL = "/api/v1/mentor-statuses"
CONTRACT_ALIAS = "/api/v1/mentor-statuses/api/v1/mentor-statuses"
MENTOR_FIELDS = {"mentor_id", "status", "is_paused", "pause_start_date", "expected_return_date", "pause_reason",
                 "metadata", "created_at", "last_updated"}


@pytest.mark.parametrize("base", [CANONICAL, CONTRACT_ALIAS, CANONICAL + "/"])
def test_create_on_every_path_returns_201_with_location_and_every_field(client, base):
    response = client.post(base, json={"mentor_id": "mentor-099", "status": "active", "is_paused": False})

    assert response.status_code == 201
    assert response.headers["Location"] == "/api/v1/mentor-statuses/mentor-099"
    assert set(response.json) == MENTOR_FIELDS
    assert response.json["status"] == "active" and response.json["is_paused"] is False
    assert response.json["pause_start_date"] is None and response.json["metadata"] == {}
    assert response.json["created_at"].endswith("Z") and response.json["created_at"] == response.json["last_updated"]
    assert MentorStatus.get_by_id("mentor-099").base_status == "active"


@pytest.mark.parametrize("base", [CANONICAL, CONTRACT_ALIAS])
def test_get_put_delete_on_both_path_forms(client, base):
    create_mentor(client)

    assert_get_put_delete(client, f"{base}/mentor-001", "mentor_id", {"status": "inactive"})


def test_create_with_neither_status_nor_is_paused_is_active(client):
    assert create_mentor(client)["status"] == "active"


@pytest.mark.parametrize("fields, status", [
    ({"is_paused": True}, "paused"),
    ({"status": "paused"}, "paused"),
    ({"is_paused": False}, "active"),
    ({"status": "inactive"}, "inactive"),
    ({"status": "inactive", "is_paused": False}, "inactive"),
])
def test_create_derives_the_missing_half_of_status_and_is_paused(client, fields, status):
    mentor = create_mentor(client, **fields)

    assert (mentor["status"], mentor["is_paused"]) == (status, status == "paused")


def test_create_paused_opens_an_active_pause_record_with_the_pause_fields(client):
    mentor = create_mentor(client, status="paused", pause_start_date="2026-03-01T00:00:00Z",
                           expected_return_date="2026-04-01T00:00:00Z", pause_reason="certification_expiry")

    assert mentor["pause_start_date"] == "2026-03-01T00:00:00Z"
    [record] = list_pauses(client)
    assert record["is_active"] is True and record["end_date"] is None
    assert (record["start_date"], record["expected_return_date"], record["reason"]) == (
        "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", "certification_expiry")


def test_create_paused_without_start_date_starts_now(client):
    mentor = create_mentor(client, is_paused=True)

    assert mentor["pause_start_date"] == mentor["created_at"]


def test_create_existing_mentor_id_is_409_and_changes_nothing(client):
    create_mentor(client, metadata={"a": 1})

    response = client.post(CANONICAL, json={"mentor_id": "mentor-001", "status": "paused"})

    assert response.status_code == 409
    assert response.json["code"] == 409 and "mentor-001" in response.json["message"]
    assert get_mentor(client)["metadata"] == {"a": 1}
    assert PauseRecord.select().count() == 0


def test_deleted_mentor_id_can_be_created_again(client):
    create_mentor(client)
    client.delete(f"{CANONICAL}/mentor-001")

    assert create_mentor(client)["status"] == "active"


@pytest.mark.parametrize("body, fields", [
    ({"status": "paused", "is_paused": False}, {"status", "is_paused"}),
    ({"status": "active", "is_paused": True}, {"status", "is_paused"}),
    ({"mentor_id": ""}, {"mentor_id"}),
    ({"mentor_id": "-starts-with-dash"}, {"mentor_id"}),
    ({"mentor_id": "has space"}, {"mentor_id"}),
    ({"mentor_id": "m" * 65}, {"mentor_id"}),
    ({"mentor_id": "mentor\n"}, {"mentor_id"}),
    ({"mentor_id": 42}, {"mentor_id"}),
    ({"mentor_id": None}, {"mentor_id"}),
    ({"status": "retired"}, {"status"}),
    ({"is_paused": "true"}, {"is_paused"}),
    ({"is_paused": 1}, {"is_paused"}),
    ({"status": "paused", "pause_reason": "Personal Leave"}, {"pause_reason"}),
    ({"status": "paused", "pause_reason": "1st"}, {"pause_reason"}),
    ({"status": "paused", "pause_start_date": "2026-02-30"}, {"pause_start_date"}),
    ({"status": "paused", "pause_start_date": "yesterday"}, {"pause_start_date"}),
    ({"status": "paused", "pause_start_date": 1700000000}, {"pause_start_date"}),
    ({"status": "paused", "pause_start_date": "2026-03-02", "expected_return_date": "2026-03-01"},
     {"expected_return_date"}),
    ({"status": "active", "pause_start_date": "2026-03-01T00:00:00Z"}, {"pause_start_date"}),
    ({"status": "active", "expected_return_date": "2026-04-01T00:00:00Z"}, {"expected_return_date"}),
    ({"status": "active", "pause_reason": "personal_leave"}, {"pause_reason"}),
    ({"metadata": []}, {"metadata"}),
    ({"metadata": None}, {"metadata"}),
    ({"metadata": {"notes": "x" * 17000}}, {"metadata"}),
    ({"created_at": "2026-03-01T00:00:00Z"}, {"created_at"}),
    ({"last_updated": "2026-03-01T00:00:00Z"}, {"last_updated"}),
    ({"colour": "blue"}, {"colour"}),
])
def test_create_with_bad_field_is_422_naming_it_and_writes_nothing(client, body, fields):
    response = client.post(CANONICAL, json={"mentor_id": "mentor-001", **body})

    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == fields
    assert MentorStatus.select().count() == 0 and PauseRecord.select().count() == 0


def test_create_without_mentor_id_is_422_naming_it(client):
    response = client.post(CANONICAL, json={"status": "active"})

    assert response.status_code == 422
    assert response.json["errors"]["json"] == {"mentor_id": ["Missing data for required field."]}


def test_pause_fields_sent_as_null_on_an_active_mentor_are_fine(client):
    mentor = create_mentor(client, pause_start_date=None, expected_return_date=None, pause_reason=None)

    assert mentor["status"] == "active"


def test_metadata_is_stored_and_returned_exactly_and_put_replaces_it_whole(client):
    metadata = {"initiated_by": "coordinator-007", "notes": "Zeilen\u00e4nderung \U0001F600 \u0000 \ud800",
                "nested": {"list": [1, 2.5, None, True]}}
    create_mentor(client, metadata=metadata)
    assert get_mentor(client)["metadata"] == metadata

    client.put(f"{CANONICAL}/mentor-001", json={"metadata": {"only": "this"}})

    assert get_mentor(client)["metadata"] == {"only": "this"}


def test_put_is_partial_and_moves_last_updated(client):
    create_mentor(client, metadata={"keep": True})
    MentorStatus.update(last_updated="2026-01-01 00:00:00").execute()

    response = client.put(f"{CANONICAL}/mentor-001", json={"status": "inactive"})

    assert response.status_code == 200
    assert response.json["status"] == "inactive" and response.json["metadata"] == {"keep": True}
    assert response.json["last_updated"] > "2026-01-01T00:00:00Z"


def test_put_with_nothing_to_change_changes_nothing(client):
    created = create_mentor(client)
    MentorStatus.update(last_updated="2026-01-01 00:00:00").execute()

    response = client.put(f"{CANONICAL}/mentor-001", json={})

    assert response.status_code == 200
    assert response.json["last_updated"] == "2026-01-01T00:00:00Z"
    assert response.json["created_at"] == created["created_at"]


def test_put_with_read_only_and_unknown_fields_names_both(client):
    create_mentor(client)

    response = client.put(f"{CANONICAL}/mentor-001", json={"mentor_id": "x", "bogus": 1})

    assert response.status_code == 422
    assert response.json["errors"]["json"] == {"mentor_id": ["Read-only field: it cannot be changed."],
                                               "bogus": ["Unknown field."]}


@pytest.mark.parametrize("change", [{"status": "inactive"}, {"is_paused": False}, {"metadata": {"keep": True}}])
def test_put_that_changes_nothing_keeps_last_updated(client, change):
    create_mentor(client, status="inactive", metadata={"keep": True})
    MentorStatus.update(last_updated="2026-01-01 00:00:00").execute()

    response = client.put(f"{CANONICAL}/mentor-001", json=change)

    assert response.status_code == 200 and response.json["last_updated"] == "2026-01-01T00:00:00Z"


@pytest.mark.parametrize("field", ["mentor_id", "created_at", "last_updated", "unknown_thing"])
def test_put_read_only_or_unknown_field_is_422_naming_it(client, field):
    create_mentor(client)

    response = client.put(f"{CANONICAL}/mentor-001", json={field: "mentor-002", "status": "inactive"})

    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {field}
    assert get_mentor(client)["status"] == "active"


def test_put_unknown_mentor_is_404(client):
    response = client.put(f"{CANONICAL}/nobody", json={"status": "inactive"})

    assert response.status_code == 404
    assert response.json == {"code": 404, "status": "Not Found", "message": "No mentor status with mentor_id 'nobody'."}


@pytest.mark.parametrize("mentor_id", ["nobody", "bad%20id", "%00", "x" * 100, "'; DROP TABLE mentor_status; --"])
def test_get_and_delete_of_a_mentor_that_does_not_exist_is_404(client, mentor_id):
    assert client.get(f"{CANONICAL}/{mentor_id}").status_code == 404
    assert client.delete(f"{CANONICAL}/{mentor_id}").status_code == 404


def test_delete_removes_the_mentor_and_all_its_pause_records(client):
    create_mentor(client, status="paused", pause_start_date="2026-03-01")
    create_pause(client, start_date="2025-01-01", end_date="2025-02-01")
    create_mentor(client, "mentor-002", status="paused")

    response = client.delete(f"{CANONICAL}/mentor-001")

    assert response.status_code == 200
    assert response.json == {"deleted": True, "mentor_id": "mentor-001"}
    assert [record["mentor_id"] for record in list_pauses(client)] == ["mentor-002"]
    assert not MentorStatus.select().where(MentorStatus.mentor_id == "mentor-001").exists()


def test_mentor_ids_with_every_allowed_character_round_trip(client):
    mentor_id = "A9-_.:@z"
    create_mentor(client, mentor_id)

    assert get_mentor(client, mentor_id)["mentor_id"] == mentor_id
