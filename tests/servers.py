"""Helpers for the tests that run the service for real: gunicorn as a subprocess, a TCP proxy
that can make the database vanish, fresh databases, and the consistency invariant (docs/api.md) checked with plain SQL.

Every server binds a free port and only 127.0.0.1 is ever sent traffic.
"""
import os
import selectors
import socket
import threading
from collections import Counter
from urllib.parse import urlparse

import requests
from kept_counts import kept_count_violations
from peewee import PostgresqlDatabase

from harness import servers
from harness.servers import REPO_ROOT, HttpReceiver, free_port, wait_until  # noqa: F401 (the tests import them from here)
from mentor_status_service.db import open_database


class Gunicorn(servers.Gunicorn):
    """harness.servers.Gunicorn as the tests run it: access lines logged (LOG_LEVEL=info, unless `env`
    says otherwise), and no write tokens inherited from the environment."""

    def environment(self):
        env = super().environment()
        if "LOG_LEVEL" not in self.extra_env:
            env["LOG_LEVEL"] = "info"
        env.pop("API_WRITE_TOKENS", None)
        return env


class TcpProxy:
    """Forwards 127.0.0.1:<port> to `target`. `stop()` drops the listener and every open
    connection (the database "vanishes"); `start()` brings it back on the same port."""

    def __init__(self, target_host, target_port, port=None):
        self.target = (target_host, target_port)
        self.port = port or free_port()
        self._listener = None
        self._threads = []
        self._sockets = set()
        self._lock = threading.Lock()
        self._running = threading.Event()

    def start(self):
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.2)
        self._listener = listener
        self._running.set()
        thread = threading.Thread(target=self._accept_loop, args=(listener,), daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def stop(self):
        self._running.clear()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept_loop(self, listener):
        while self._running.is_set():
            try:
                client, _ = listener.accept()
            except (socket.timeout, OSError):
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, a, b):
        peers = {a: b, b: a}
        # A selector, not select(): in a long test session the sockets' numbers pass select()'s 1024.
        selector = selectors.DefaultSelector()
        try:
            for sock in peers:
                selector.register(sock, selectors.EVENT_READ)
            while self._running.is_set():
                for key, _ in selector.select(0.2):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    peers[key.fileobj].sendall(data)
        except (OSError, ValueError):
            pass
        finally:
            selector.close()
            for sock in (a, b):
                with self._lock:
                    self._sockets.discard(sock)
                try:
                    sock.close()
                except OSError:
                    pass

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


# Databases

def postgresql_url_or_skip():
    import pytest

    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set; PostgreSQL runs in CI (.ci/run)")
    return url


def fresh_postgresql_url():
    """The test PostgreSQL database's URL (else skip), every table dropped (reset_postgresql)."""
    url = postgresql_url_or_skip()
    reset_postgresql(url)
    return url


def postgresql_behind_proxy():
    """The test PostgreSQL database emptied (fresh_postgresql_url) and a TcpProxy in front of it, not
    started (nothing listens on its port yet): (proxy, the database's URL through it, its direct URL)."""
    url = fresh_postgresql_url()
    target = urlparse(url)
    proxy = TcpProxy(target.hostname or "127.0.0.1", target.port or 5432)
    return proxy, with_port(url, proxy.port), url


def reset_postgresql(url):
    """Drop every table of the public schema (the service's, whatever migrations have added), so
    that the next migration starts from nothing."""
    db = open_database(url)
    try:
        tables = [name for (name,) in db.execute_sql(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()]
        if tables:
            db.execute_sql("DROP TABLE IF EXISTS {} CASCADE".format(", ".join(f'"{name}"' for name in tables)))
    finally:
        db.close()


def with_port(url, port):
    """`url` with its port replaced (for pointing the service through a proxy, or at nothing)."""
    parsed = urlparse(url)
    host = parsed.hostname or "127.0.0.1"
    auth = parsed.netloc.rsplit("@", 1)[0] + "@" if "@" in parsed.netloc else ""
    return parsed._replace(netloc=f"{auth}{host}:{port}").geturl()


def fetch_rows(url, sql, params=()):
    db = open_database(url)
    try:
        return list(db.execute_sql(sql, params).fetchall())
    finally:
        db.close()


def invariant_violations(url):
    """the consistency invariant (docs/api.md), read from the tables of the database at `url`. Empty when it holds."""
    db = open_database(url)
    try:
        return table_violations(db)
    finally:
        db.close()


def table_violations(db):
    """the consistency invariant (docs/api.md) read from the tables themselves (not through the API), on an open Peewee
    database. Empty when it holds.

    The schema stores a mentor's pause only as its active record (a mentor is paused exactly while
    it has one), so the checks are: at most one active record per mentor, no record without its
    mentor, dates in order, a base status never "paused", and kept counts equal to the tables'.
    """
    problems = []

    def rows(sql):
        return list(db.execute_sql(sql).fetchall())

    for mentor_id, count in rows("SELECT mentor_id, COUNT(*) FROM pause_record WHERE state = 'active' "
                                 "GROUP BY mentor_id HAVING COUNT(*) > 1"):
        problems.append(f"mentor {mentor_id!r} has {count} active pause records")
    for (record_id,) in rows("SELECT p.id FROM pause_record p LEFT JOIN mentor_status m "
                             "ON m.mentor_id = p.mentor_id WHERE m.mentor_id IS NULL"):
        problems.append(f"pause record {record_id} has no mentor")
    for (record_id,) in rows("SELECT id FROM pause_record WHERE end_date < start_date "
                             "OR expected_return_date < start_date"):
        problems.append(f"pause record {record_id} has dates out of order")
    for (record_id,) in rows("SELECT id FROM pause_record WHERE state = 'ended' AND end_date IS NULL"):
        problems.append(f"pause record {record_id} ended without an end_date")
    for mentor_id, status in rows("SELECT mentor_id, base_status FROM mentor_status "
                                  "WHERE base_status NOT IN ('active', 'inactive')"):
        problems.append(f"mentor {mentor_id!r} has stored status {status!r}")
    for (mentor_id,) in rows("SELECT mentor_id FROM mentor_status m WHERE paused <> EXISTS (SELECT 1 FROM "
                             "pause_record p WHERE p.mentor_id = m.mentor_id AND p.state = 'active')"):
        problems.append(f"mentor {mentor_id!r} has `paused` out of step with its pauses")
    for (mentor_id,) in rows("SELECT mentor_id FROM mentor_status WHERE last_updated < created_at"):
        problems.append(f"mentor {mentor_id!r} was updated before it was created")
    problems += kept_count_violations(rows, isinstance(db, PostgresqlDatabase))
    names = ("mentors_active", "mentors_inactive", "pauses_active", "pauses_ended", "pauses_scheduled")
    # The totals are the folded row plus the deltas of writes not folded in yet.
    [stored] = rows("SELECT " + ", ".join(f"t.{name} + (SELECT COALESCE(SUM({name}), 0) FROM list_totals_delta)"
                                          for name in names) + " FROM list_totals t")
    not_paused = ("FROM mentor_status m WHERE base_status = '{}' AND NOT EXISTS (SELECT 1 FROM pause_record p "
                  "WHERE p.mentor_id = m.mentor_id AND p.state = 'active')")
    counted = (not_paused.format("active"), not_paused.format("inactive"), "FROM pause_record WHERE state = 'active'",
               "FROM pause_record WHERE state = 'ended'", "FROM pause_record WHERE state = 'scheduled'")
    for name, total, source in zip(names, stored, counted):
        [(count,)] = rows(f"SELECT COUNT(*) {source}")
        if total != count:
            problems.append(f"list total {name} is {total}, the tables hold {count}")
    # The totals per reason: each reason's row plus its deltas not folded in yet.
    kept = dict(rows("SELECT reason, SUM(records) FROM (SELECT reason, records FROM reason_totals UNION ALL "
                     "SELECT reason, records FROM reason_totals_delta) AS kept GROUP BY reason"))
    counted = dict(rows("SELECT reason, COUNT(*) FROM pause_record WHERE reason IS NOT NULL GROUP BY reason"))
    for reason in sorted(set(kept) | set(counted)):
        total, count = int(kept.get(reason, 0)), counted.get(reason, 0)
        if total != count:
            problems.append(f"reason total {reason!r} is {total}, the tables hold {count}")
    return problems


def sqlite_integrity(url):
    return fetch_rows(url, "PRAGMA integrity_check")[0][0]


def api_invariant_violations(get):
    """The consistency invariant (docs/api.md) read through the API; `get(path, params)` returns
    parsed JSON (any client)."""
    problems = []

    def every(path, **params):
        items, page = [], 1
        while True:
            body = get(path, {"limit": 100, "page": page, **params})
            items += body["data"]
            if len(items) >= body["pagination"]["total"] or not body["data"]:
                return items
            page += 1

    active = {}
    for record in every("/api/v1/pause-records", is_active="true"):
        if record["mentor_id"] in active:
            problems.append(f"two active pauses for {record['mentor_id']!r}")
        active[record["mentor_id"]] = record
    for mentor in every("/api/v1/mentor-statuses"):
        record = active.pop(mentor["mentor_id"], None)
        if not mentor["is_paused"] == (mentor["status"] == "paused") == (record is not None):
            problems.append(f"{mentor['mentor_id']!r}: status {mentor['status']!r}, is_paused "
                            f"{mentor['is_paused']}, active record {record and record['pause_record_id']}")
        elif record and (mentor["pause_start_date"], mentor["expected_return_date"], mentor["pause_reason"]) != (
                record["start_date"], record["expected_return_date"], record["reason"]):
            problems.append(f"{mentor['mentor_id']!r}: pause fields differ from its active record")
        elif not record and not (mentor["pause_start_date"] is mentor["expected_return_date"]
                                 is mentor["pause_reason"] is None):
            problems.append(f"{mentor['mentor_id']!r}: pause fields set while not paused")
    problems += [f"active record for unknown mentor {mentor_id!r}" for mentor_id in active]
    reasons = Counter(record["reason"] for record in every("/api/v1/pause-records") if record["reason"])
    for reason, count in sorted(reasons.items()):
        total = get("/api/v1/pause-records", {"reason": reason, "limit": 1})["pagination"]["total"]
        if total != count:
            problems.append(f"the list of reason {reason!r} has total {total}, {count} records have it")
    return problems


def consistency_violations(database_url, base_url):
    """The consistency invariant (docs/api.md) read from the tables of the database at `database_url`
    and through the API of the server at `base_url`. Empty when it holds."""
    return invariant_violations(database_url) + api_invariant_violations(http_get_json(base_url))


def http_get_json(base_url):
    def get(path, params):
        response = requests.get(base_url + path, params=params, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    return get
