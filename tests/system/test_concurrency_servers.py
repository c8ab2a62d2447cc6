"""Bursts of concurrent requests at real gunicorn servers: SQLite with four worker processes,
PostgreSQL with four, and two gunicorn instances sharing one PostgreSQL database (directly and
through PgBouncer). Then the
same race through the Flask app from many threads on PostgreSQL.

Each burst releases all its requests at once (a barrier) at writes that collide on one row:
only the outcomes the rules allow may come back, never a 5xx, and the tables must hold the
invariant afterwards.
"""
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from servers import (
    Gunicorn,
    consistency_violations,
    fresh_postgresql_url,
    invariant_violations,
    postgresql_url_or_skip,
    sqlite_integrity,
)

from mentor_status_service.db import database

pytestmark = pytest.mark.slow

BURST = 60
MENTORS = "/api/v1/mentor-statuses"
RECORDS = "/api/v1/pause-records"
FIRED = Counter()
SERVER_ERROR_LOGGED = re.compile(r" 5\d\d \d+\.\d\dms ")  # the status and duration of the service's access line


def burst(calls):
    """Run every `(method, url, json)` at once from its own thread; returns the responses in order."""
    barrier = threading.Barrier(len(calls), timeout=60)

    def call(method, url, body):
        barrier.wait()
        return requests.request(method, url, json=body, timeout=120)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        responses = list(pool.map(lambda args: call(*args), calls))
    FIRED["requests"] += len(responses)
    FIRED.update(f"{response.request.method} {response.status_code}" for response in responses)
    for response in responses:
        assert response.status_code < 500, response.text
        assert response.headers["Content-Type"] == "application/json", response.text
    return responses


def codes(responses):
    return Counter(response.status_code for response in responses)


def spread(base_urls, count):
    """`count` base URLs taking turns among the servers."""
    return [base_urls[n % len(base_urls)] for n in range(count)]


def setup_request(base_url, method, path, body=None, expect=(200, 201)):
    response = requests.request(method, base_url + path, json=body, timeout=60)
    assert response.status_code in expect, response.text
    return response.json()


def list_records(base_url, mentor_id):
    body = requests.get(f"{base_url}{RECORDS}", params={"mentor_id": mentor_id, "limit": 100}, timeout=30).json()
    assert body["pagination"]["total"] == len(body["data"])
    return body["data"]


def run_bursts(base_urls, database_url):
    """Every burst of the brief against `base_urls` (one or more servers on one database)."""
    first = base_urls[0]

    # Many pauses opened for one mentor at once: exactly one wins.
    setup_request(first, "POST", MENTORS, {"mentor_id": "race-pause"})
    responses = burst([("POST", f"{url}{RECORDS}", {"mentor_id": "race-pause", "reason": "personal_leave"})
                       for url in spread(base_urls, BURST)])
    assert codes(responses) == {201: 1, 409: BURST - 1}
    assert setup_request(first, "GET", f"{MENTORS}/race-pause")["status"] == "paused"

    # One mentor id created many times at once: exactly one wins.
    responses = burst([("POST", f"{url}{MENTORS}", {"mentor_id": "race-create", "status": "paused"})
                       for url in spread(base_urls, BURST)])
    assert codes(responses) == {201: 1, 409: BURST - 1}
    assert len(list_records(first, "race-create")) == 1

    # One mentor switched back and forth between paused and active: every switch succeeds.
    setup_request(first, "POST", MENTORS, {"mentor_id": "race-toggle"})
    bodies = [{"status": "paused", "pause_reason": "travel"}, {"status": "active"}]
    responses = burst([("PUT", f"{url}{MENTORS}/race-toggle", bodies[n % 2])
                       for n, url in enumerate(spread(base_urls, BURST))])
    assert codes(responses) == {200: BURST}
    toggled = list_records(first, "race-toggle")
    # A record opens only when a pause finds the mentor active, so at most one per pausing request,
    # and every record but the newest is closed.
    assert 1 <= len(toggled) <= BURST // 2
    assert all(not record["is_active"] for record in toggled[:-1])

    # One record closed and reopened at once, while new pauses are opened for its mentor.
    setup_request(first, "POST", MENTORS, {"mentor_id": "race-record", "status": "paused"})
    [record] = list_records(first, "race-record")
    record_id = record["pause_record_id"]
    calls = []
    for n, url in enumerate(spread(base_urls, BURST)):
        if n % 6 == 5:
            calls.append(("POST", f"{url}{RECORDS}", {"mentor_id": "race-record"}))
        else:
            calls.append(("PUT", f"{url}{RECORDS}/{record_id}", {"is_active": bool(n % 2)}))
    responses = burst(calls)
    puts = [response for (method, _, _), response in zip(calls, responses) if method == "PUT"]
    posts = [response for (method, _, _), response in zip(calls, responses) if method == "POST"]
    assert set(codes(puts)) <= {200, 409} and set(codes(posts)) <= {201, 409}
    # A reopening is refused only while another record of the mentor is active, which only a POST makes.
    assert codes(puts)[409] == 0 or codes(posts)[201] > 0
    assert len(list_records(first, "race-record")) == 1 + codes(posts)[201]

    # Writes to many mentors at once, every one of them moving the list totals: none may fail (a
    # deadlock between them would be a 503).
    responses = burst([("POST", f"{url}{MENTORS}", {"mentor_id": f"many-{n}", "is_paused": bool(n % 2)})
                       for n, url in enumerate(spread(base_urls, BURST))])
    assert codes(responses) == {201: BURST}
    responses = burst([("PUT", f"{url}{MENTORS}/many-{n}", {"is_paused": not n % 2})
                       for n, url in enumerate(spread(base_urls, BURST))])
    assert codes(responses) == {200: BURST}

    assert consistency_violations(database_url, first) == []
    for url in base_urls:
        assert requests.get(f"{url}/readyz", timeout=30).status_code == 200


def test_bursts_against_gunicorn_on_sqlite_with_four_workers(tmp_path):
    database_url = f"sqlite:///{tmp_path}/burst.db"
    with Gunicorn(database_url, workers=4) as server:
        run_bursts([server.base_url], database_url)
        output = server.output()

    assert "database is locked" not in output
    assert not SERVER_ERROR_LOGGED.search(output) and "Traceback" not in output
    assert sqlite_integrity(database_url) == "ok"


def test_bursts_against_gunicorn_on_postgresql_with_four_workers():
    database_url = fresh_postgresql_url()
    with Gunicorn(database_url, workers=4) as server:
        run_bursts([server.base_url], database_url)
        output = server.output()

    assert not SERVER_ERROR_LOGGED.search(output) and "Traceback" not in output


@pytest.mark.parametrize("route", ["direct", "pgbouncer"])
def test_bursts_split_between_two_gunicorn_instances_sharing_postgresql(route, request):
    """Directly, and through PgBouncer in transaction pooling mode (migrations included)."""
    direct_url = fresh_postgresql_url()
    database_url = request.getfixturevalue("pgbouncer_url") if route == "pgbouncer" else direct_url
    # Both start at once: the migration must run exactly once between them (an advisory lock).
    servers = [Gunicorn(database_url, workers=4).start(wait=False) for _ in range(2)]
    try:
        for server in servers:
            server.wait_ready()
        run_bursts([server.base_url for server in servers], database_url)
        outputs = [server.output() for server in servers]
    finally:
        for server in servers:
            server.close()

    applied = [line for output in outputs for line in output.splitlines() if "migrations applied" in line]
    assert len(applied) == 2 and sum("0001_initial" in line for line in applied) == 1, applied
    for output in outputs:
        assert not SERVER_ERROR_LOGGED.search(output) and "Traceback" not in output


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_threads_opening_a_pause_for_one_mentor_through_the_app_get_one_201(app, database_url):
    """The Flask app served from many threads at once (each with its own connection)."""
    app.test_client().post(MENTORS, json={"mentor_id": "race-threads"})
    barrier = threading.Barrier(BURST, timeout=60)
    results = []

    def open_pause():
        try:
            barrier.wait()
            response = app.test_client().post(RECORDS, json={"mentor_id": "race-threads"})
            results.append((response.status_code, response.json))
        finally:
            database.close()

    threads = [threading.Thread(target=open_pause) for _ in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    FIRED["requests"] += len(results)
    FIRED.update(f"POST {code}" for code, _ in results)

    assert Counter(code for code, _ in results) == {201: 1, 409: BURST - 1}, results
    assert app.test_client().get(f"{MENTORS}/race-threads").json["status"] == "paused"
    assert invariant_violations(postgresql_url_or_skip()) == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_threads_pausing_and_resuming_their_own_mentors_never_fail(app, database_url):
    """Every write moves the list totals: writes to different mentors must not deadlock on them."""
    client = app.test_client()
    for n in range(BURST):
        client.post(MENTORS, json={"mentor_id": f"own-{n}"})
    barrier = threading.Barrier(BURST, timeout=60)
    results = []

    def pause_and_resume(n):
        try:
            barrier.wait()
            for body in ({"status": "paused"}, {"status": "inactive"}, {"is_paused": True}, {"status": "active"}):
                results.append(app.test_client().put(f"{MENTORS}/own-{n}", json=body).status_code)
        finally:
            database.close()

    threads = [threading.Thread(target=pause_and_resume, args=(n,)) for n in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    FIRED["requests"] += len(results)
    FIRED.update(f"PUT {code}" for code in results)

    assert Counter(results) == {200: 4 * BURST}
    assert invariant_violations(postgresql_url_or_skip()) == []


@pytest.fixture(scope="module", autouse=True)
def report_requests_fired():
    yield
    print(f"\nconcurrency: {FIRED['requests']} concurrent requests; outcomes {dict(sorted(FIRED.items()))}")
