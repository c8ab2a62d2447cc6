"""Small helpers that make test data through the API and read it back."""
from peewee import JOIN
from servers import api_invariant_violations

from mentor_status_service.pausing.lookups import ActivePause
from mentor_status_service.pausing.models import MentorStatus


def mentors_with_active_pause():
    """Every mentor as a model with its `active_pause` (None when not paused), read apart from the
    service's own queries."""
    return MentorStatus.select(MentorStatus, ActivePause).join(
        ActivePause, JOIN.LEFT_OUTER,
        on=(ActivePause.mentor == MentorStatus.mentor_id) & (ActivePause.state == "active"), attr="active_pause")


def create_mentor(client, mentor_id="mentor-001", **fields):
    response = client.post("/api/v1/mentor-statuses", json={"mentor_id": mentor_id, **fields})
    assert response.status_code == 201, response.json
    return response.json


def create_pause(client, mentor_id="mentor-001", **fields):
    response = client.post("/api/v1/pause-records", json={"mentor_id": mentor_id, **fields})
    assert response.status_code == 201, response.json
    return response.json


def get_mentor(client, mentor_id="mentor-001"):
    response = client.get(f"/api/v1/mentor-statuses/{mentor_id}")
    assert response.status_code == 200, response.json
    return response.json


def list_pauses(client, **filters):
    response = client.get("/api/v1/pause-records", query_string={"limit": 100, **filters})
    assert response.status_code == 200, response.json
    return response.json["data"]


def assert_get_put_delete(client, url, id_field, change):
    """The resource at `url` (its id the URL's last segment, in `id_field`) answers a GET, a PUT of
    `change` with the change made, a DELETE, and then a 404."""
    identifier = url.rpartition("/")[2]
    assert client.get(url).json[id_field] == identifier
    assert client.put(url, json=change).json.items() >= change.items()
    assert client.delete(url).json == {"deleted": True, id_field: identifier}
    assert client.get(url).status_code == 404


def assert_consistent(client):
    """the consistency invariant (docs/api.md), read through the API, and every list total the API reports."""
    def get(path, params):
        response = client.get(path, query_string=params)
        assert response.status_code == 200, response.json
        return response.json

    assert api_invariant_violations(get) == []
    assert_list_totals_exact(client, client.get("/api/v1/mentor-statuses", query_string={"limit": 100}).json["data"])


def assert_list_totals_exact(client, mentors):
    """Every total the lists report from the list totals agrees with the rows themselves."""
    def total(path, **query):
        return client.get(path, query_string=query).json["pagination"]["total"]

    statuses = [mentor["status"] for mentor in mentors]
    assert total("/api/v1/mentor-statuses") == len(mentors)
    for status in ("active", "inactive", "paused"):
        assert total("/api/v1/mentor-statuses", status=status) == statuses.count(status), status
    assert total("/api/v1/mentor-statuses", is_paused="false") == len(mentors) - statuses.count("paused")
    records = list_pauses(client)
    assert total("/api/v1/pause-records") == len(records)
    assert total("/api/v1/pause-records", is_active="true") == sum(r["is_active"] for r in records)
    assert total("/api/v1/pause-records", is_active="false") == sum(not r["is_active"] for r in records)
    for state in ("scheduled", "active", "ended"):
        assert total("/api/v1/pause-records", state=state) == sum(r["state"] == state for r in records), state


def create_exportable(client, mentors, ended_below):
    """`mentors` mentors of each status in turn, with metadata that CSV must quote, some paused
    with or without an expected return and a reason, and an ended pause (with or without a reason)
    of every other one numbered below `ended_below`: the rows an export is checked on."""
    notes = {"notes": 'Back "soon", maybe\nor later; ,,', "tags": ["a,b", "\"quoted\""], "ünï": "çødé"}
    for number in range(mentors):
        status = ("active", "paused", "inactive")[number % 3]
        fields = {"status": status, "metadata": notes if number % 4 == 0 else {"n": number}}
        if status == "paused":
            fields.update(expected_return_date=f"2027-0{1 + number % 9}-01" if number % 5 else None,
                          pause_reason="personal_leave" if number % 2 else None)
        create_mentor(client, f"mentor-{number:03d}", **fields)
    for number in range(0, ended_below, 2):
        create_pause(client, f"mentor-{number:03d}", start_date="2025-01-01", end_date=f"2025-0{1 + number % 9}-02",
                     reason="travel" if number % 3 else None)
