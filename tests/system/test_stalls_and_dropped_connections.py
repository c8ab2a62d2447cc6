"""PostgreSQL under gunicorn when a transaction stalls holding a mentor's row or the rows that once
every write needed, and when
every connection of the service is cut between two requests (a failover, a pooler restarting).
Also: however many threads serve, an instance holds at most workers x DB_POOL_SIZE connections."""
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
import requests
from servers import (
    Gunicorn,
    api_invariant_violations,
    fetch_rows,
    http_get_json,
    invariant_violations,
    postgresql_url_or_skip,
    reset_postgresql,
)

from mentor_status_service.db import DATABASE_ERRORS
from mentor_status_service.db.handle import open_service_database

pytestmark = pytest.mark.slow

MENTORS = "/api/v1/mentor-statuses"
LOCK_TIMEOUT_MS = 500
IDLE_IN_TRANSACTION_TIMEOUT_MS = 5000
BOUNDS = {"DB_LOCK_TIMEOUT_MS": str(LOCK_TIMEOUT_MS),
          "DB_IDLE_IN_TRANSACTION_TIMEOUT_MS": str(IDLE_IN_TRANSACTION_TIMEOUT_MS)}


@contextmanager
def stalled_transaction(url, idle_in_transaction_timeout_ms, lock_sql):
    """A transaction begun as the service begins its own, that locks rows with `lock_sql` and then
    stalls, idle, like a frozen worker: PostgreSQL ends it after `idle_in_transaction_timeout_ms`."""
    db = open_service_database(url, pool_size=1, pool_wait_ms=1000, statement_timeout_ms=5000,
                               lock_timeout_ms=1000, idle_in_transaction_timeout_ms=idle_in_transaction_timeout_ms)
    transaction = db.atomic()
    transaction.__enter__()
    db.execute_sql(lock_sql)
    try:
        yield db
    finally:
        try:
            transaction.__exit__(None, None, None)
        except DATABASE_ERRORS:  # PostgreSQL ended it, as it should
            pass
        db.close_all()


def mentor(base, mentor_id):
    return requests.get(f"{base}{MENTORS}/{mentor_id}", timeout=10).json()


def timed_put(base, mentor_id, body):
    started = time.monotonic()
    response = requests.put(f"{base}{MENTORS}/{mentor_id}", json=body, timeout=30)
    return response, time.monotonic() - started


@contextmanager
def serving_mentors(count):
    """A fresh PostgreSQL database, a gunicorn with the stall bounds over it, and mentors m-0 ...;
    the database's URL and the server."""
    url = postgresql_url_or_skip()
    reset_postgresql(url)
    with Gunicorn(url, workers=2, env=BOUNDS) as server:
        for n in range(count):
            response = requests.post(f"{server.base_url}{MENTORS}", json={"mentor_id": f"m-{n}"}, timeout=10)
            assert response.status_code == 201
        yield url, server


def test_a_stalled_transaction_holding_a_mentor_costs_its_writes_a_quick_503_and_others_nothing():
    with serving_mentors(12) as (url, server):
        base = server.base_url

        with stalled_transaction(url, IDLE_IN_TRANSACTION_TIMEOUT_MS,
                                 "SELECT * FROM mentor_status WHERE mentor_id = 'm-0' FOR UPDATE") as holder:
            stalled_at = time.monotonic()
            refused = [timed_put(base, "m-0", {"status": "paused"}) for _ in range(2)]
            targets = ["m-0"] * 4 + [f"m-{n}" for n in range(1, 8)]  # the stalled mentor and seven others, at once
            with ThreadPoolExecutor(len(targets)) as pool:
                results = list(pool.map(lambda mentor_id: timed_put(base, mentor_id, {"status": "inactive"}), targets))
            refused += results[:4]
            others = results[4:]
            read = requests.get(f"{base}{MENTORS}/m-0", timeout=5)  # reads never wait for the lock

            # Writes to it succeed again once PostgreSQL has ended the stalled transaction.
            recovered_after = None
            while time.monotonic() - stalled_at < IDLE_IN_TRANSACTION_TIMEOUT_MS / 1000 + 5:
                response = requests.put(f"{base}{MENTORS}/m-0", json={"status": "paused"}, timeout=30)
                if response.status_code == 200:
                    recovered_after = time.monotonic() - stalled_at
                    break
                assert response.status_code == 503, response.text
                time.sleep(0.1)
            with pytest.raises(DATABASE_ERRORS):
                holder.execute_sql("SELECT 1")  # its session was terminated

        for response, took in refused:
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"] and response.json()["message"].startswith("The database is busy")
            assert took < LOCK_TIMEOUT_MS / 1000 + 1.5, took
        assert [response.status_code for response, _ in others] == [200] * 7
        assert read.status_code == 200
        assert recovered_after is not None and recovered_after < IDLE_IN_TRANSACTION_TIMEOUT_MS / 1000 + 2
        assert mentor(base, "m-0")["status"] == "paused"
        assert [mentor(base, f"m-{n}")["status"] for n in range(1, 8)] == ["inactive"] * 7
        assert api_invariant_violations(http_get_json(base)) == []
        output = server.output()
    print(f"\nstall: {len(refused)} writes to the stalled mentor refused in at most "
          f"{max(took for _, took in refused):.2f} s, 7 writes to others answered 200 meanwhile in at most "
          f"{max(took for _, took in others):.2f} s; writes to it succeed {recovered_after:.2f} s after the "
          "stall began")
    assert invariant_violations(url) == []
    assert "Traceback" not in output


def test_a_stalled_transaction_holding_the_totals_and_the_change_log_head_costs_writes_nothing():
    """No write needs those rows any more: only folding the totals (which skips a held row) and
    numbering the feed (a reader, which waits) take them."""
    with serving_mentors(8) as (url, server):
        base = server.base_url
        with stalled_transaction(url, IDLE_IN_TRANSACTION_TIMEOUT_MS, "SELECT * FROM list_totals, change_log_head "
                                                                      "FOR UPDATE"):
            with ThreadPoolExecutor(8) as pool:
                during = list(pool.map(lambda n: timed_put(base, f"m-{n}", {"status": "paused"}), range(8)))
        feed = requests.get(f"{base}/api/v1/changes", params={"limit": 1000}, timeout=30).json()
        assert api_invariant_violations(http_get_json(base)) == []
        output = server.output()

    assert [response.status_code for response, _ in during] == [200] * 8
    assert max(took for _, took in during) < LOCK_TIMEOUT_MS / 1000, during
    # Each mentor created, then paused: its pause record created and the mentor updated.
    assert Counter((entry["resource"], entry["event"]) for entry in feed["data"]) == {
        ("mentor_status", "created"): 8, ("pause_record", "created"): 8, ("mentor_status", "updated"): 8}
    assert invariant_violations(url) == []
    assert "Traceback" not in output


SERVICE = "mentor-status-under-test"  # the application_name of the service's connections


def service_backends(url):
    """Pids of the service's connections to the test database."""
    return [pid for (pid,) in fetch_rows(url, "SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                                         (SERVICE,))]


def terminate_service_connections(url):
    """As a failover or a pooler restart does: every connection of the service ends."""
    return len(fetch_rows(url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                          (SERVICE,)))


def test_connections_cut_between_requests_cost_no_read_an_error_and_no_write_is_half_applied():
    url = postgresql_url_or_skip()
    reset_postgresql(url)
    service_url = f"{url}{'&' if '?' in url else '?'}application_name={SERVICE}"
    with Gunicorn(service_url, workers=2, env={"DB_POOL_SIZE": "3"}) as server:
        base = server.base_url
        for n in range(20):
            assert requests.post(f"{base}{MENTORS}", json={"mentor_id": f"m-{n:02d}"}, timeout=10).status_code == 201
        # Every thread busy at once: the pools fill, and stay within workers x DB_POOL_SIZE.
        with ThreadPoolExecutor(40) as pool:
            warm = list(pool.map(lambda n: requests.get(f"{base}{MENTORS}/m-{n % 20:02d}", timeout=30), range(400)))
        assert {response.status_code for response in warm} == {200}
        opened = len(service_backends(url))
        assert 2 <= opened <= 2 * 3, opened

        reads, writes, cut = [], [], 0
        for round_ in range(3):
            cut += terminate_service_connections(url)
            with ThreadPoolExecutor(8) as pool:
                reads += list(pool.map(lambda n: requests.get(f"{base}{MENTORS}/m-{n:02d}", timeout=30), range(20)))
            cut += terminate_service_connections(url)
            status = ("paused", "active", "inactive")[round_]
            with ThreadPoolExecutor(8) as pool:
                writes += [(n, status, response) for n, response in enumerate(pool.map(
                    lambda n, status=status: requests.put(f"{base}{MENTORS}/m-{n:02d}", json={"status": status},
                                                          timeout=30),
                    range(20)))]
            cut += terminate_service_connections(url)
            reads.append(requests.get(f"{base}{MENTORS}", params={"limit": 100}, timeout=30))

        assert [response.status_code for response in reads if response.status_code != 200] == []
        assert {response.status_code for _, _, response in writes} <= {200, 503}
        final = {item["mentor_id"]: item["status"] for item in reads[-1].json()["data"]}
        for n, status, response in writes[-20:]:
            if response.status_code == 200:
                assert final[f"m-{n:02d}"] == status
        assert api_invariant_violations(http_get_json(base)) == []
        output = server.output()
    failed_writes = sum(response.status_code != 200 for _, _, response in writes)
    print(f"\ndropped connections: {cut} connections cut; {len(reads)} reads, 0 errors; {len(writes)} writes, "
          f"{failed_writes} 503; at most {opened} connections for 2 workers x 3")
    assert invariant_violations(url) == []
    assert "Traceback" not in output


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_write_whose_commit_outcome_is_unknown_is_a_503_and_is_not_run_again(client, database_url, monkeypatch):
    from playhouse.pool import PooledPostgresqlDatabase

    from mentor_status_service.pausing import rules

    assert client.post(MENTORS, json={"mentor_id": "m-1"}).status_code == 201
    real_commit, runs = PooledPostgresqlDatabase.commit, []

    def commit_on_a_connection_cut_just_before(db):
        # As a failover between the last statement and COMMIT: the server never answers the COMMIT.
        fetch_rows(database_url, "SELECT pg_terminate_backend(%s)", (db.connection().info.backend_pid,))
        return real_commit(db)

    def counted(*args, **kwargs):
        runs.append(args)
        return real_update(*args, **kwargs)

    real_update = rules.update_mentor_status
    monkeypatch.setattr(PooledPostgresqlDatabase, "commit", commit_on_a_connection_cut_just_before)
    monkeypatch.setattr(rules, "update_mentor_status", counted)
    response = client.put(f"{MENTORS}/m-1", json={"status": "paused"})
    monkeypatch.undo()

    assert response.status_code == 503 and response.headers["Retry-After"]
    assert len(runs) == 1  # not retried: it might have committed
    assert client.get(f"{MENTORS}/m-1").json["status"] == "active"  # the server rolled it back
    assert [entry["event"] for entry in client.get("/api/v1/changes").json["data"]] == ["created"]
