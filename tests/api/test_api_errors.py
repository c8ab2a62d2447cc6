import pytest
from factories import create_mentor

from mentor_status_service.pausing.models import MentorStatus

MENTORS = "/api/v1/mentor-statuses"


@pytest.mark.parametrize("method, path, code", [
    ("get", "/nowhere", 404),
    ("get", "/api/v1/mentor-statuses/a/b", 404),
    ("patch", MENTORS, 405),
    ("delete", MENTORS, 405),
    ("post", "/api/v1/pause-records/pause-rec-0001", 405),
])
def test_unknown_routes_and_methods_answer_json(client, method, path, code):
    response = getattr(client, method)(path)

    assert response.status_code == code
    assert response.json["code"] == code and response.json["status"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_malformed_json_is_400(client):
    response = client.post(MENTORS, data='{"mentor_id": ', content_type="application/json")

    assert response.status_code == 400
    assert response.json["code"] == 400


def test_invalid_utf8_is_400(client):
    response = client.post(MENTORS, data=b'{"mentor_id": "\xff\xfe"}', content_type="application/json")

    assert response.status_code == 400


def test_deeply_nested_json_is_400_not_500(client):
    response = client.post(MENTORS, data="[" * 30000 + "]" * 30000, content_type="application/json")

    assert response.status_code == 400


def test_json_that_is_not_an_object_is_422(client):
    response = client.post(MENTORS, json=["mentor-001"])

    assert response.status_code == 422
    assert MentorStatus.select().count() == 0


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_a_body_that_is_not_json_is_415(client, content_type):
    response = client.post(MENTORS, data='{"mentor_id": "mentor-001"}', content_type=content_type)

    assert response.status_code == 415
    assert "application/json" in response.json["message"]
    assert MentorStatus.select().count() == 0


def test_a_body_over_64_kib_is_413(client):
    response = client.post(MENTORS, json={"mentor_id": "mentor-001", "metadata": {"notes": "x" * 70000}})

    assert response.status_code == 413
    assert response.json["code"] == 413
    assert MentorStatus.select().count() == 0


def test_metadata_nested_too_deeply_is_422(client):
    nested = {}
    for _ in range(40):
        nested = {"n": nested}

    response = client.post(MENTORS, json={"mentor_id": "mentor-001", "metadata": nested})

    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"metadata"}


def test_no_error_shows_sql_or_a_traceback(client):
    create_mentor(client)
    responses = [client.post(MENTORS, json={"mentor_id": "mentor-001"}),
                 client.get(f"{MENTORS}/%27%3B%20DROP%20TABLE"),
                 client.get(MENTORS, query_string={"status": "' OR 1=1"})]

    for response in responses:
        text = response.get_data(as_text=True)
        assert "Traceback" not in text and "SELECT" not in text and "INSERT" not in text
