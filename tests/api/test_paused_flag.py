"""The mentor's stored `paused` (migration 0014: kept by the database for the lists' indexes) follows
every way a pause begins or ends, and a load reads a mentor's pause by its state, not by its end date.
Whatever writes did it, the lists filtered by pause and sorted by a mentor column list exactly the
paused mentors."""
import datetime as dt

import pytest
from factories import create_mentor, create_pause, get_mentor
from test_pauses_over_time import apply_at, consistent, days, iso, now

from mentor_status_service.db import database
from mentor_status_service.pausing.models import MentorStatus

MENTORS = "/api/v1/mentor-statuses"
RECORDS = "/api/v1/pause-records"
IMPORT = "/api/v1/mentor-statuses/import"


def stored_paused(app, mentor_id="mentor-001"):
    with app.app_context():
        try:
            return bool(MentorStatus.get_by_id(mentor_id).paused)
        finally:
            database.close()


def listed(client, **query):
    response = client.get(MENTORS, query_string={"limit": 100, **query})
    assert response.status_code == 200, response.json
    return [mentor["mentor_id"] for mentor in response.json["data"]], response.json["pagination"]["total"]


def put_mentor(client, mentor_id="mentor-001", **fields):
    response = client.put(f"{MENTORS}/{mentor_id}", json=fields)
    assert response.status_code == 200, response.json


def test_paused_follows_puts_pause_records_and_their_deletion(client, app):
    create_mentor(client)
    assert stored_paused(app) is False
    put_mentor(client, status="paused", pause_reason="travel")
    assert stored_paused(app) is True
    put_mentor(client, status="active")
    assert stored_paused(app) is False

    record = create_pause(client, reason="illness")
    assert stored_paused(app) is True
    response = client.put(f"{RECORDS}/{record['pause_record_id']}", json={"is_active": False})
    assert response.status_code == 200, response.json
    assert stored_paused(app) is False

    record = create_pause(client)
    assert client.delete(f"{RECORDS}/{record['pause_record_id']}").status_code == 200
    assert stored_paused(app) is False and get_mentor(client)["status"] == "active"
    consistent(app)


def test_paused_follows_the_moments_the_service_applies(client, app):
    create_mentor(client)
    start, end = now() + days(10), now() + days(20)
    response = client.post(RECORDS, json={"mentor_id": "mentor-001", "start_date": iso(start), "end_date": iso(end)})
    assert response.status_code == 201, response.json
    assert stored_paused(app) is False  # scheduled

    apply_at(app, start)
    assert stored_paused(app) is True and listed(client, is_paused="true", sort="-last_updated") == (["mentor-001"], 1)
    apply_at(app, end + dt.timedelta(seconds=1))
    assert stored_paused(app) is False and listed(client, is_paused="true", sort="-last_updated") == ([], 0)
    consistent(app)


def test_paused_follows_a_load_and_sql_run_by_an_operator(client, app):
    response = client.post(IMPORT, json={"mentors": [{"mentor_id": "mentor-001", "is_paused": True},
                                                     {"mentor_id": "mentor-002"}]})
    assert response.status_code == 200, response.json
    assert (stored_paused(app, "mentor-001"), stored_paused(app, "mentor-002")) == (True, False)

    with app.app_context():
        try:
            database.execute_sql("UPDATE pause_record SET state = 'ended', end_date = start_date")
        finally:
            database.close()
    assert stored_paused(app, "mentor-001") is False
    # (The list totals are the service's own bookkeeping: after SQL like this, `flask --app wsgi db recount`.)
    assert listed(client, status="active", sort="created_at")[0] == ["mentor-001", "mentor-002"]


@pytest.mark.parametrize("sort", ["last_updated", "-last_updated", "created_at", "-created_at"])
def test_lists_filtered_by_pause_and_sorted_by_a_mentor_column_list_exactly_the_paused(client, sort):
    for number in range(1, 7):
        create_mentor(client, f"mentor-00{number}", status="inactive" if number == 5 else "active")
    for number in (2, 4, 5):  # mentor-005 is inactive when not paused
        put_mentor(client, f"mentor-00{number}", status="paused")
    put_mentor(client, "mentor-004", status="active")

    paused, total = listed(client, status="paused", sort=sort)
    assert sorted(paused) == ["mentor-002", "mentor-005"] and total == 2
    assert sorted(listed(client, is_paused="false", sort=sort)[0]) == [
        "mentor-001", "mentor-003", "mentor-004", "mentor-006"]
    assert sorted(listed(client, status="active", sort=sort)[0]) == [
        "mentor-001", "mentor-003", "mentor-004", "mentor-006"]
    assert listed(client, status="inactive", sort=sort) == ([], 0)  # mentor-005 is paused


def test_a_load_leaves_a_scheduled_pause_scheduled_and_resumes_an_active_one_that_has_an_end_ahead(client, app):
    create_mentor(client, "mentor-001")
    scheduled = create_pause(client, "mentor-001", start_date=iso(now() + days(5)))
    create_mentor(client, "mentor-002")
    ending = create_pause(client, "mentor-002", start_date=iso(now() - days(1)), end_date=iso(now() + days(9)))

    response = client.post(IMPORT, query_string={"mode": "upsert"}, json={"mentors": [
        {"mentor_id": "mentor-001", "metadata": {"cohort": "2027"}},
        {"mentor_id": "mentor-002", "status": "active"}]})

    assert response.status_code == 200, response.json
    assert response.json == {"rows": 2, "created": 0, "updated": 2, "unchanged": 0}
    first = get_mentor(client, "mentor-001")
    assert (first["status"], first["metadata"]) == ("active", {"cohort": "2027"})
    assert client.get(f"{RECORDS}/{scheduled['pause_record_id']}").json["state"] == "scheduled"
    assert get_mentor(client, "mentor-002")["status"] == "active"
    assert client.get(f"{RECORDS}/{ending['pause_record_id']}").json["state"] == "ended"
    consistent(app)
