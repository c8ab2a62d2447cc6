import pytest
from factories import create_mentor, create_pause, get_mentor

MENTOR = "/api/v1/mentor-statuses/mentor-001"
RECORD = "/api/v1/pause-records/pause-rec-0001"


@pytest.mark.parametrize("path", [MENTOR, RECORD, "/api/v1/mentor-statuses", "/api/v1/pause-records"])
def test_reads_carry_an_etag_and_a_matching_if_none_match_is_304(client, path):
    create_mentor(client)
    create_pause(client)
    etag = client.get(path).headers["ETag"]

    response = client.get(path, headers={"If-None-Match": etag})

    assert response.status_code == 304 and response.data == b""


def test_a_changed_resource_no_longer_matches_its_old_etag(client):
    create_mentor(client)
    etag = client.get(MENTOR).headers["ETag"]
    client.put(MENTOR, json={"metadata": {"v": 2}})

    response = client.get(MENTOR, headers={"If-None-Match": etag})

    assert response.status_code == 200 and response.json["metadata"] == {"v": 2}


@pytest.mark.parametrize("path, change", [(MENTOR, {"status": "inactive"}), (RECORD, {"reason": "travel"})])
def test_put_with_the_current_etag_succeeds_and_returns_the_new_one(client, path, change):
    create_mentor(client)
    create_pause(client)
    etag = client.get(path).headers["ETag"]

    response = client.put(path, json=change, headers={"If-Match": etag})

    assert response.status_code == 200
    assert response.headers["ETag"] != etag and response.headers["ETag"] == client.get(path).headers["ETag"]


@pytest.mark.parametrize("path, change", [(MENTOR, {"status": "inactive"}), (RECORD, {"is_active": False})])
def test_put_with_a_stale_etag_is_412_and_changes_nothing(client, path, change):
    create_mentor(client)
    create_pause(client)
    before = client.get(path).json

    response = client.put(path, json=change, headers={"If-Match": '"stale"'})

    assert response.status_code == 412 and response.json["code"] == 412
    assert client.get(path).json == before
    assert get_mentor(client)["status"] == "paused"


@pytest.mark.parametrize("path", [MENTOR, RECORD])
def test_delete_with_a_stale_etag_is_412_and_with_the_current_one_deletes(client, path):
    create_mentor(client)
    create_pause(client)

    assert client.delete(path, headers={"If-Match": '"stale"'}).status_code == 412
    assert client.get(path).status_code == 200
    etag = client.get(path).headers["ETag"]
    assert client.delete(path, headers={"If-Match": etag}).status_code == 200
    assert client.get(path).status_code == 404


def test_if_match_star_and_no_if_match_both_write(client):
    create_mentor(client)

    assert client.put(MENTOR, json={"status": "inactive"}, headers={"If-Match": "*"}).status_code == 200
    assert client.put(MENTOR, json={"status": "active"}).status_code == 200


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
@pytest.mark.parametrize("path", [MENTOR, RECORD, "/api/v1/pause-records/pause-rec-19"])
@pytest.mark.parametrize("tag", ['"x"', "*"])
def test_if_match_on_a_missing_resource_is_412(client, method, path, tag):
    response = client.open(path, method=method, json={} if method == "PUT" else None, headers={"If-Match": tag})

    assert response.status_code == 412 and response.json["code"] == 412


def test_if_match_star_on_an_existing_resource_lets_the_write_through(client):
    create_mentor(client)

    assert client.put(MENTOR, json={"status": "inactive"}, headers={"If-Match": "*"}).status_code == 200


def test_without_if_match_a_missing_resource_is_404(client):
    assert client.put(MENTOR, json={}).status_code == 404


@pytest.mark.parametrize("path", [MENTOR, "/api/v1/mentor-statuses?limit=5"])
def test_an_unconditional_read_carries_a_strong_etag_of_its_bytes_and_a_date(client, path):
    """Without any conditional header the response is tagged without werkzeug's conditional work:
    the same strong tag for the same bytes, a Date, the full body."""
    create_mentor(client)
    first, second = client.get(path), client.get(path, headers={"Range": "bytes=0-9"})

    assert first.status_code == second.status_code == 200
    assert first.headers["ETag"] == second.headers["ETag"] and not first.headers["ETag"].startswith("W/")
    assert first.data == second.data and first.headers["Date"].endswith(" GMT")
    client.put(MENTOR, json={"metadata": {"v": 2}})
    assert client.get(path).headers["ETag"] != first.headers["ETag"]


def test_if_modified_since_alone_still_answers_the_full_representation(client):
    create_mentor(client)

    response = client.get(MENTOR, headers={"If-Modified-Since": "Mon, 07 Dec 2026 00:00:00 GMT"})

    assert response.status_code == 200 and response.json["mentor_id"] == "mentor-001"
