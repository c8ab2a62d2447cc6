"""Each mentor's history: its change entries, both resources, newest first, in pages with their total."""
from factories import create_mentor, create_pause
from test_change_log import MENTORS, summary


def test_history_is_newest_first_with_pages_and_links_in_both_path_forms(client):
    create_mentor(client)
    for number in range(5):
        client.put(f"{MENTORS}/mentor-001", json={"metadata": {"n": number}})

    for base in (MENTORS, f"{MENTORS}{MENTORS}"):
        response = client.get(f"{base}/mentor-001/history", query_string={"limit": 2, "page": 2})
        body = response.json
        assert response.status_code == 200
        assert [entry["after"]["metadata"] for entry in body["data"]] == [{"n": 2}, {"n": 1}]
        assert body["pagination"] == {"page": 2, "limit": 2, "total": 6}
        path = f"{base}/mentor-001/history"
        assert response.headers["Link"] == (f'<{path}?limit=2&page=1>; rel="first", <{path}?limit=2&page=3>; '
                                            f'rel="last", <{path}?limit=2&page=1>; rel="prev", '
                                            f'<{path}?limit=2&page=3>; rel="next"')


def test_history_past_its_last_page_is_empty_and_still_tells_its_total(client):
    create_mentor(client)
    for number in range(2):
        client.put(f"{MENTORS}/mentor-001", json={"metadata": {"n": number}})

    last = client.get(f"{MENTORS}/mentor-001/history", query_string={"limit": 2, "page": 2}).json
    past = client.get(f"{MENTORS}/mentor-001/history", query_string={"limit": 2, "page": 7}).json

    assert [entry["after"]["metadata"] for entry in last["data"]] == [{}]
    assert last["pagination"] == {"page": 2, "limit": 2, "total": 3}
    assert past["data"] == [] and past["pagination"] == {"page": 7, "limit": 2, "total": 3}


def test_history_of_an_unknown_mentor_is_404(client):
    response = client.get(f"{MENTORS}/nobody/history")

    assert response.status_code == 404 and response.json["code"] == 404


def test_history_includes_the_mentors_pause_records_only(client):
    create_mentor(client, "mentor-001")
    create_mentor(client, "mentor-002")
    create_pause(client, "mentor-002")

    history = client.get(f"{MENTORS}/mentor-001/history").json["data"]

    assert summary(history) == [("mentor_status", "mentor-001", "created")]
