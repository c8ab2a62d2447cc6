"""GET /metrics: requests by route template, method and status, latency, database outages and the
list totals; in one process, and summed over the workers of a real gunicorn."""
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from factories import create_mentor
from prometheus_client.parser import text_string_to_metric_families
from servers import Gunicorn

from mentor_status_service import create_app
from mentor_status_service.db import database

MENTORS = "/api/v1/mentor-statuses"
MENTOR = "/api/v1/mentor-statuses/<mentor_id>"
RECORDS = "/api/v1/pause-records"


def scrape(text):
    """{(sample name, labels as sorted tuple): value} from Prometheus's text format."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def requests_counted(samples):
    return Counter({(labels["route"], labels["method"], labels["status"]): value
                    for (name, label_items), value in samples.items() if name == "mentor_status_http_requests_total"
                    for labels in [dict(label_items)] if labels["route"] not in ("/healthz", "/metrics")})


def test_metrics_count_requests_by_route_template_never_by_raw_path(client):
    before = requests_counted(scrape(client.get("/metrics").get_data(as_text=True)))
    create_mentor(client, "mentor-a")
    client.get("/api/v1/mentor-statuses/mentor-a")
    client.get("/api/v1/mentor-statuses/mentor-b")
    client.get("/no/such/path")

    response = client.get("/metrics")

    assert response.status_code == 200 and response.mimetype == "text/plain"
    counted = requests_counted(scrape(response.get_data(as_text=True))) - before
    assert counted == Counter({(MENTORS, "POST", "201"): 1, (MENTOR, "GET", "200"): 1, (MENTOR, "GET", "404"): 1,
                               ("<unmatched>", "GET", "404"): 1})
    assert "mentor-a" not in response.get_data(as_text=True)


def test_metrics_give_mentors_by_status_and_pause_records_by_state(client):
    create_mentor(client, "mentor-a")
    create_mentor(client, "mentor-b", status="inactive")
    create_mentor(client, "mentor-c", status="paused")
    record = client.post(RECORDS, json={"mentor_id": "mentor-a"}).json
    client.put(f"{RECORDS}/{record['pause_record_id']}", json={"is_active": False})

    samples = scrape(client.get("/metrics").get_data(as_text=True))

    assert gauges(samples) == {("mentor_status_mentors", "status", "active"): 1,
                               ("mentor_status_mentors", "status", "paused"): 1,
                               ("mentor_status_mentors", "status", "inactive"): 1,
                               ("mentor_status_pause_records", "state", "active"): 1,
                               ("mentor_status_pause_records", "state", "ended"): 1,
                               ("mentor_status_pause_records", "state", "scheduled"): 0}


def gauges(samples):
    return {(name, *label_items[0]): value for (name, label_items), value in samples.items()
            if name in ("mentor_status_mentors", "mentor_status_pause_records")}


def test_metrics_count_database_outages_and_still_answer_without_the_database(tmp_path):
    client = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/no-such-directory/x.db"}).test_client()
    try:
        before = scrape(client.get("/metrics").get_data(as_text=True))
        assert client.get("/readyz").status_code == 503
        assert client.get(MENTORS).status_code == 503

        response = client.get("/metrics")
    finally:
        database.close()

    samples = scrape(response.get_data(as_text=True))
    outages = ("mentor_status_database_unavailable_total", ())
    assert response.status_code == 200 and samples[outages] - before[outages] == 2
    assert gauges(samples) == {}


@pytest.mark.slow
def test_metrics_sum_every_gunicorn_worker(tmp_path):
    expected = Counter()

    def send(method, path, route, status, body=None):
        response = requests.request(method, server.base_url + path, json=body, timeout=30)
        assert response.status_code == status, (method, path, response.text)
        return route, method, str(status)

    with Gunicorn(f"sqlite:///{tmp_path}/metrics.db", workers=4) as server:
        ids = [f"mentor-{number:03d}" for number in range(20)]
        writes = [("POST", MENTORS, MENTORS, 201, {"mentor_id": mentor_id, "status": "inactive" if n < 5 else "active"})
                  for n, mentor_id in enumerate(ids)]
        calls = ([("POST", MENTORS, MENTORS, 409, {"mentor_id": mentor_id}) for mentor_id in ids[:10]]
                 + [("GET", f"{MENTORS}/{ids[n % 20]}", MENTOR, 200) for n in range(60)]
                 + [("GET", f"{MENTORS}/missing-{n}", MENTOR, 404) for n in range(30)]
                 + [("GET", MENTORS, MENTORS, 200)] * 40
                 + [("GET", RECORDS, RECORDS, 200)] * 10
                 + [("GET", f"/no/such/path/{n}", "<unmatched>", 404) for n in range(20)]
                 + [("PUT", f"{MENTORS}/{mentor_id}", MENTOR, 200, {"status": "paused"}) for mentor_id in ids[10:]])
        with ThreadPoolExecutor(8) as pool:
            for batch in (writes, calls):
                expected.update(pool.map(lambda call: send(*call), batch))
        assert sum(expected.values()) == 200

        text = requests.get(f"{server.base_url}/metrics", timeout=30).text
        served_by = set(re.findall(r"\[(\d+)\] \[[0-9a-f]{32}\] (?:GET|POST|PUT) /(?:api|no)/", server.output()))

    samples = scrape(text)
    assert len(served_by) > 1, "one worker served every request: nothing was summed"
    assert requests_counted(samples) == expected
    for route, method in {(route, method) for route, method, _ in expected}:
        labels = (("method", method), ("route", route))
        sent = sum(count for (r, m, _), count in expected.items() if (r, m) == (route, method))
        assert samples[("mentor_status_http_request_duration_seconds_count", labels)] == sent
        assert samples[("mentor_status_http_request_duration_seconds_bucket", (("le", "+Inf"), *labels))] == sent
        assert samples[("mentor_status_http_request_duration_seconds_sum", labels)] > 0
    assert gauges(samples) == {("mentor_status_mentors", "status", "active"): 5,
                               ("mentor_status_mentors", "status", "paused"): 10,
                               ("mentor_status_mentors", "status", "inactive"): 5,
                               ("mentor_status_pause_records", "state", "active"): 10,
                               ("mentor_status_pause_records", "state", "ended"): 0,
                               ("mentor_status_pause_records", "state", "scheduled"): 0}
    assert samples[("mentor_status_database_unavailable_total", ())] == 0


def test_made_up_methods_add_no_metrics_series(client):
    client.open("/nope", method="WARMUP")  # the one series every unknown method shares
    client.get("/metrics")  # and the scrape's own
    before = client.get("/metrics").get_data(as_text=True)

    for number in range(300):
        assert client.open("/nope", method=f"M{number:04d}{'X' * 30}").status_code == 404
    after = client.get("/metrics").get_data(as_text=True)

    assert scrape(after).keys() == scrape(before).keys() and len(after) < len(before) + 200
    counted = requests_counted(scrape(after)) - requests_counted(scrape(before))
    assert counted == Counter({("<unmatched>", "other", "404"): 300})
