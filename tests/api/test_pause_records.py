import pytest
from factories import assert_get_put_delete, create_mentor, create_pause, get_mentor, list_pauses

from mentor_status_service.db import database, is_postgresql
from mentor_status_service.pausing.models import PauseRecord

# Also through PgBouncer in transaction pooling mode, as behind Heroku's connection pooler.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql", "pgbouncer"], indirect=True)

CANONICAL = "/api/v1/pause-records"
CONTRACT_ALIAS = "/api/v1/mentor-statuses/api/v1/pause-records"
RECORD_FIELDS = {"pause_record_id", "mentor_id", "start_date", "expected_return_date", "end_date", "is_active", "state",
                 "reason", "created_at"}


@pytest.mark.parametrize("base", [CANONICAL, CONTRACT_ALIAS, CANONICAL + "/"])
def test_create_on_every_path_opens_an_active_pause_with_location(client, base):
    create_mentor(client, "mentor-042")

    response = client.post(base, json={"mentor_id": "mentor-042", "start_date": "2026-03-26T00:00:00Z",
                                       "expected_return_date": "2026-05-01T00:00:00Z", "reason": "personal_leave"})

    assert response.status_code == 201
    assert response.headers["Location"] == "/api/v1/pause-records/pause-rec-0001"
    assert set(response.json) == RECORD_FIELDS
    assert response.json["pause_record_id"] == "pause-rec-0001"
    assert response.json["is_active"] is True and response.json["end_date"] is None
    assert response.json["start_date"] == "2026-03-26T00:00:00Z"


@pytest.mark.parametrize("base", [CANONICAL, CONTRACT_ALIAS])
def test_get_put_delete_on_both_path_forms(client, base):
    create_mentor(client)
    create_pause(client)

    assert_get_put_delete(client, f"{base}/pause-rec-0001", "pause_record_id", {"reason": "travel"})


def test_start_date_defaults_to_now(client):
    create_mentor(client)

    record = create_pause(client)

    assert record["start_date"] == record["created_at"]


def test_ids_are_zero_padded_to_four_digits_then_grow(client):
    create_mentor(client)
    PauseRecord.insert(id=9998, mentor="mentor-001", start_date="2020-01-01", end_date="2020-01-02",
                       created_at="2020-01-01").execute()
    if is_postgresql():  # an explicit id does not move PostgreSQL's sequence
        database.execute_sql("SELECT setval(pg_get_serial_sequence('pause_record', 'id'), 9998)")

    first = create_pause(client, start_date="2021-01-01", end_date="2021-01-02")
    second = create_pause(client, start_date="2022-01-01", end_date="2022-01-02")

    assert (first["pause_record_id"], second["pause_record_id"]) == ("pause-rec-9999", "pause-rec-10000")
    assert client.get(f"{CANONICAL}/pause-rec-10000").status_code == 200


@pytest.mark.parametrize("written", ["pause-rec-1", "pause-rec-01", "pause-rec-00001", "PAUSE-REC-0001",
                                     "pause-rec-0001 ", "1", "pause-rec-", "pause-rec-99999999999999999999999",
                                     "pause-rec-9223372036854775808"])
def test_an_id_not_written_as_the_server_writes_it_is_404(client, written):
    create_mentor(client)
    create_pause(client)

    for method in (client.get, client.delete):
        response = method(f"{CANONICAL}/{written}")
        assert response.status_code == 404
    assert client.put(f"{CANONICAL}/{written}", json={"reason": "x"}).status_code == 404
    assert PauseRecord.select().count() == 1


def test_second_active_pause_for_a_mentor_is_409(client):
    create_mentor(client)
    create_pause(client)

    response = client.post(CANONICAL, json={"mentor_id": "mentor-001"})

    assert response.status_code == 409
    assert len(list_pauses(client)) == 1


def test_past_pause_is_accepted_while_paused_and_changes_nothing_else(client):
    create_mentor(client)
    active = create_pause(client, start_date="2026-03-01")
    before = get_mentor(client)

    past = create_pause(client, start_date="2025-01-01", end_date="2025-03-01", reason="travel")

    assert past["is_active"] is False and past["end_date"] == "2025-03-01T00:00:00Z"
    assert get_mentor(client) == before
    assert [r["pause_record_id"] for r in list_pauses(client, is_active="true")] == [active["pause_record_id"]]


def test_past_pause_does_not_touch_an_active_mentor(client):
    before = create_mentor(client, status="inactive")

    create_pause(client, start_date="2025-01-01", is_active=False)

    assert get_mentor(client) == before


@pytest.mark.parametrize("body, fields", [
    ({"start_date": "2026-03-02", "expected_return_date": "2026-03-01"}, {"expected_return_date"}),
    ({"start_date": "2026-03-02", "end_date": "2026-03-01"}, {"end_date"}),
    ({"is_active": True, "end_date": "2026-03-01"}, {"is_active", "end_date"}),
    ({"is_active": False, "end_date": None}, {"is_active", "end_date"}),
    ({"reason": "Not A Code"}, {"reason"}),
    ({"reason": 7}, {"reason"}),
    ({"start_date": None}, {"start_date"}),
    ({"start_date": "2026-13-01"}, {"start_date"}),
    ({"is_active": "false"}, {"is_active"}),
    ({"pause_record_id": "pause-rec-0009"}, {"pause_record_id"}),
    ({"created_at": "2026-03-01"}, {"created_at"}),
    ({"mentor_id": "nobody"}, {"mentor_id"}),
])
def test_create_with_bad_field_is_422_naming_it(client, body, fields):
    create_mentor(client)

    response = client.post(CANONICAL, json={"mentor_id": "mentor-001", **body})

    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == fields
    assert PauseRecord.select().count() == 0
    assert get_mentor(client)["status"] == "active"


def test_put_is_a_partial_update(client):
    create_mentor(client)
    create_pause(client, start_date="2026-03-01", reason="travel")

    response = client.put(f"{CANONICAL}/pause-rec-0001", json={"expected_return_date": "2026-04-01"})

    assert response.status_code == 200
    assert response.json["reason"] == "travel" and response.json["expected_return_date"] == "2026-04-01T00:00:00Z"
    assert response.json["start_date"] == "2026-03-01T00:00:00Z"


def test_closing_without_end_date_ends_now(client):
    create_mentor(client)
    record = create_pause(client)

    closed = client.put(f"{CANONICAL}/pause-rec-0001", json={"is_active": False}).json

    assert closed["is_active"] is False and closed["end_date"] >= record["start_date"]


def test_closing_with_only_an_end_date_closes(client):
    create_mentor(client)
    create_pause(client, start_date="2026-03-01")

    closed = client.put(f"{CANONICAL}/pause-rec-0001", json={"end_date": "2026-04-15T00:00:00Z"}).json

    assert (closed["is_active"], closed["end_date"]) == (False, "2026-04-15T00:00:00Z")


def test_closing_a_closed_record_again_changes_only_what_was_sent(client):
    create_mentor(client)
    create_pause(client, start_date="2025-01-01", end_date="2025-02-01", reason="travel")

    response = client.put(f"{CANONICAL}/pause-rec-0001", json={"is_active": False, "reason": "illness"})

    assert response.status_code == 200
    assert response.json["end_date"] == "2025-02-01T00:00:00Z" and response.json["reason"] == "illness"


@pytest.mark.parametrize("reopen", [{"is_active": True}, {"end_date": None}])
def test_reopening_clears_end_date(client, reopen):
    create_mentor(client)
    create_pause(client, start_date="2025-01-01", end_date="2025-02-01")

    response = client.put(f"{CANONICAL}/pause-rec-0001", json=reopen)

    assert response.status_code == 200
    assert (response.json["is_active"], response.json["end_date"]) == (True, None)


def test_reopening_while_another_pause_is_active_is_409_and_changes_nothing(client):
    create_mentor(client)
    create_pause(client, start_date="2025-01-01", end_date="2025-02-01")
    create_pause(client, start_date="2026-01-01")

    response = client.put(f"{CANONICAL}/pause-rec-0001", json={"is_active": True, "reason": "travel"})

    assert response.status_code == 409
    old = client.get(f"{CANONICAL}/pause-rec-0001").json
    assert old["end_date"] == "2025-02-01T00:00:00Z" and old["reason"] is None


@pytest.mark.parametrize("body, field", [
    *(({field: "x", "is_active": False}, field) for field in ("pause_record_id", "mentor_id", "created_at", "colour")),
    ({"end_date": "2026-02-01"}, "end_date"),  # before its start
])
def test_put_read_only_unknown_or_bad_field_is_422_naming_it_and_changes_nothing(client, body, field):
    create_mentor(client)
    create_pause(client, start_date="2026-03-01")

    response = client.put(f"{CANONICAL}/pause-rec-0001", json=body)

    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {field}
    assert list_pauses(client)[0]["is_active"] is True and get_mentor(client)["status"] == "paused"


def test_put_start_date_after_expected_return_is_422_naming_the_start_sent(client):
    create_mentor(client)
    create_pause(client, start_date="2026-03-01", expected_return_date="2026-03-10")

    response = client.put(f"{CANONICAL}/pause-rec-0001", json={"start_date": "2026-03-11"})

    assert response.status_code == 422
    assert response.json["errors"]["json"] == {"start_date": ["Must not be after the pause's expected_return_date."]}


def test_a_paused_mentors_start_moved_past_its_return_is_422_naming_pause_start_date(client):
    create_mentor(client, status="paused", pause_start_date="2026-03-01", expected_return_date="2026-03-10")

    response = client.put("/api/v1/mentor-statuses/mentor-001", json={"pause_start_date": "2026-03-11"})

    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"pause_start_date"}
