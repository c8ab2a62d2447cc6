"""The database goes away: PostgreSQL on a port where nothing listens, and PostgreSQL behind a TCP
proxy that is stopped (every connection cut) and started again under a running gunicorn.

While the database is gone the API answers 503 JSON (no traceback, no SQL), /readyz says 503,
/healthz stays 200 and the workers stay up; when it returns, the service resumes by itself.
"""
import itertools
import threading
import time

import pytest
import requests
from servers import (
    Gunicorn,
    fetch_rows,
    free_port,
    invariant_violations,
    postgresql_behind_proxy,
    postgresql_url_or_skip,
    wait_until,
    with_port,
)

from mentor_status_service import create_app
from mentor_status_service.db import database

pytestmark = pytest.mark.slow

MENTORS = "/api/v1/mentor-statuses"
RECORDS = "/api/v1/pause-records"
LEAKS = ("Traceback", 'File "', "psycopg", "OperationalError", "InterfaceError", "SELECT", "Connection refused",
         "127.0.0.1")
API_CALLS = [
    ("GET", MENTORS, None),
    ("GET", f"{MENTORS}/mentor-001", None),
    ("POST", MENTORS, {"mentor_id": "mentor-new"}),
    ("PUT", f"{MENTORS}/mentor-001", {"status": "paused"}),
    ("DELETE", f"{MENTORS}/mentor-001", None),
    ("GET", RECORDS, None),
    ("GET", f"{RECORDS}/pause-rec-0001", None),
    ("POST", RECORDS, {"mentor_id": "mentor-001"}),
    ("PUT", f"{RECORDS}/pause-rec-0001", {"is_active": False}),
    ("DELETE", f"{RECORDS}/pause-rec-0001", None),
]
TRIED = {"requests while the database was gone": 0}


def assert_unavailable(status, headers, text):
    assert status == 503, text
    assert headers["Content-Type"] == "application/json" and headers["X-Content-Type-Options"] == "nosniff"
    assert not [leak for leak in LEAKS if leak in text], text


def test_flask_app_with_the_database_on_a_closed_port_answers_503_json():
    url = with_port(postgresql_url_or_skip(), free_port())  # nothing listens there
    client = create_app({"DATABASE_URL": url, "TESTING": True}).test_client()
    try:
        ready = client.get("/readyz")
        assert_unavailable(ready.status_code, ready.headers, ready.get_data(as_text=True))
        assert ready.json["code"] == 503
        for method, path, body in API_CALLS:
            response = client.open(path, method=method, json=body)
            TRIED["requests while the database was gone"] += 1
            assert_unavailable(response.status_code, response.headers, response.get_data(as_text=True))
            assert response.json["code"] == 503 and response.headers["Retry-After"]
        assert client.get("/healthz").status_code == 200
        assert client.get("/openapi.json").status_code == 200
    finally:
        database.close()


@pytest.fixture
def proxied_postgresql():
    """The test database reached through a proxy the test can stop and start."""
    proxy, proxied_url, direct_url = postgresql_behind_proxy()
    with proxy:
        yield proxy, proxied_url, direct_url


def test_gunicorn_survives_the_database_vanishing_and_resumes_when_it_returns(proxied_postgresql):
    proxy, proxied_url, direct_url = proxied_postgresql
    with Gunicorn(proxied_url, workers=2) as server:
        base = server.base_url

        def call(method, path, body=None):
            return requests.request(method, base + path, json=body, timeout=30)

        # Every worker holds an open connection before the database goes.
        assert call("POST", MENTORS, {"mentor_id": "mentor-001"}).status_code == 201
        for _ in range(10):
            assert call("GET", f"{MENTORS}/mentor-001").status_code == 200
        workers = sorted(server.worker_pids())

        proxy.stop()
        for _ in range(3):  # each worker may see its cut connection first, then refused connects
            for method, path, body in API_CALLS + [("GET", "/readyz", None)]:
                response = call(method, path, body)
                TRIED["requests while the database was gone"] += 1
                assert_unavailable(response.status_code, response.headers, response.text)
            assert call("GET", "/healthz").status_code == 200

        assert sorted(server.worker_pids()) == workers  # no worker died or was replaced
        assert "Traceback" not in server.output()
        # The workers' open connections were cut, not only new ones refused.
        assert "server closed the connection unexpectedly" in server.output() or \
            "connection already closed" in server.output(), server.output()[-3000:]

        proxy.start()
        # Each worker may spend one request finding that its old connection is dead.
        wait_until(lambda: call("GET", "/readyz").status_code == 200, 30, interval=0.2,
                   message="/readyz after the database returned")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if all(call("GET", f"{MENTORS}/mentor-001").status_code == 200 for _ in range(10)):
                break
            time.sleep(0.2)
        for _ in range(20):  # now every worker answers
            assert call("GET", f"{MENTORS}/mentor-001").status_code == 200
        assert call("POST", MENTORS, {"mentor_id": "mentor-002", "status": "paused"}).status_code == 201
        assert call("PUT", f"{MENTORS}/mentor-001", {"status": "inactive"}).status_code == 200
        assert sorted(server.worker_pids()) == workers
        assert "Traceback" not in server.output()

    assert invariant_violations(direct_url) == []


WRITERS = 8


def test_the_database_vanishing_under_concurrent_writes_loses_nothing_acknowledged(proxied_postgresql):
    """Writes racing the cut, from writers started together and cut while in flight, are each
    answered 201 or 503; every 201 is in the database whole, and a 503 leaves nothing half done
    (the write is absent, or, when the connection went during its COMMIT, whole)."""
    proxy, proxied_url, direct_url = proxied_postgresql
    with Gunicorn(proxied_url, workers=2) as server:
        base = server.base_url
        start, stop = threading.Barrier(WRITERS + 1), threading.Event()
        lock = threading.Lock()
        answers = []  # (mentor_id, status sent, started, ended, status code, response)
        problems = []

        def writer(number):
            start.wait()
            for n in itertools.count():
                if stop.is_set():
                    return
                body = {"mentor_id": f"mentor-{number}-{n:04d}", "status": "paused" if n % 2 else "active"}
                started = time.monotonic()
                try:
                    response = requests.post(base + MENTORS, json=body, timeout=30)
                except requests.RequestException as error:
                    with lock:
                        problems.append(f"{body['mentor_id']}: no answer: {error!r}")
                    return
                with lock:
                    answers.append((body["mentor_id"], body["status"], started, time.monotonic(),
                                    response.status_code, response))

        def count(code, after=0.0):
            with lock:
                return sum(1 for answer in answers if answer[4] == code and answer[2] >= after)

        threads = [threading.Thread(target=writer, args=(number,), daemon=True) for number in range(WRITERS)]
        for thread in threads:
            thread.start()
        start.wait()
        try:
            wait_until(lambda: count(201) >= 40, 60, interval=0.01, message="writes acknowledged before the cut")
            cut = time.monotonic()
            proxy.stop()
            wait_until(lambda: count(503, after=cut) >= 2 * WRITERS, 60, interval=0.01,
                       message="writes refused while the database was gone")
            restored = time.monotonic()
            proxy.start()
            wait_until(lambda: count(201, after=restored) >= 40, 60, interval=0.05,
                       message="writes acknowledged after the database returned")
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)

        assert not problems, problems
        for mentor_id, _, _, _, code, response in answers:
            assert code in (201, 503), (mentor_id, code, response.text)
            if code == 503:
                assert_unavailable(code, response.headers, response.text)
                TRIED["requests while the database was gone"] += 1
        in_flight = [answer for answer in answers if answer[2] < cut < answer[3]]
        TRIED["writes in flight at the cut"] = len(in_flight)
        assert in_flight, "no write was in flight when the database went"

        sent = {mentor_id: status for mentor_id, status, *_ in answers}
        acknowledged = {mentor_id for mentor_id, _, _, _, code, _ in answers if code == 201}
        stored = dict(fetch_rows(direct_url, "SELECT m.mentor_id, CASE WHEN p.id IS NULL THEN m.base_status "
                                             "ELSE 'paused' END FROM mentor_status m LEFT JOIN pause_record p "
                                             "ON p.mentor_id = m.mentor_id AND p.end_date IS NULL"))
        listed = requests.get(base + MENTORS, timeout=30).json()
        assert listed["pagination"]["total"] == len(stored)

    assert acknowledged <= set(stored), sorted(acknowledged - set(stored))  # nothing acknowledged was lost
    assert set(stored) <= set(sent), sorted(set(stored) - set(sent))
    assert stored == {mentor_id: sent[mentor_id] for mentor_id in stored}  # each as it was sent
    # Whole: each stored mentor has its created entry, and a paused one its pause record's.
    entries = fetch_rows(direct_url, "SELECT resource, mentor_id FROM change_entry WHERE event = 'created'")
    assert sorted(mentor_id for resource, mentor_id in entries if resource == "mentor_status") == sorted(stored)
    assert sorted(mentor_id for resource, mentor_id in entries if resource == "pause_record") == sorted(
        mentor_id for mentor_id, status in stored.items() if status == "paused")
    TRIED["503 writes that committed (connection lost during COMMIT)"] = len(set(stored) - acknowledged)
    assert invariant_violations(direct_url) == []


@pytest.fixture(scope="module", autouse=True)
def report_requests():
    yield
    print(f"\nlost database: {TRIED}")
