"""Helpers for the tests that run the service for real: gunicorn as a subprocess, a TCP proxy
that can make the database vanish, fresh databases, and the consistency invariant (docs/api.md) checked with plain SQL.

Every server binds a free port and only 127.0.0.1 is ever sent traffic.
"""
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import requests

from mentor_status_service.db import open_database

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout, interval=0.1, message="condition"):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


class Gunicorn:
    """`gunicorn -c gunicorn.conf.py wsgi:app` from the repository root, in its own process group
    so that the master and every worker can be killed at once."""

    def __init__(self, database_url, workers=4, port=None, env=None):
        self.database_url = database_url
        self.workers = workers
        self.port = port or free_port()
        self.extra_env = env or {}
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process = None
        self._log = tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False)
        self._log.close()
        self.log_path = Path(self._log.name)

    def start(self, wait=True):
        env = {**os.environ, "DATABASE_URL": self.database_url, "PORT": str(self.port),
               "LOG_LEVEL": "info", "PYTHONUNBUFFERED": "1", **self.extra_env}
        env.pop("API_WRITE_TOKENS", None)
        if self.workers is None:  # as gunicorn.conf.py decides
            env.pop("WEB_CONCURRENCY", None)
        else:
            env["WEB_CONCURRENCY"] = str(self.workers)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=60):
        def healthy():
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited with {self.process.returncode}:\n{self.output()[-3000:]}")
            try:
                return requests.get(f"{self.base_url}/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(healthy, timeout, interval=0.2, message=f"gunicorn on port {self.port}")
        # /healthz answers as soon as one worker is up; give the others a moment to boot too.
        wait_until(lambda: self.worker_pids() and len(self.worker_pids()) >= (self.workers or 1), timeout,
                   message="every gunicorn worker")

    def worker_pids(self):
        """Pids in the server's process group other than the master."""
        if self.process is None:
            return []
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # Fields after the command name (which may hold spaces): state ppid pgrp ...
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z" and int(fields[2]) == self.process.pid and int(entry.name) != self.process.pid:
                pids.append(int(entry.name))
        return pids

    def kill(self):
        """SIGKILL the master and every worker at once, as a crash or an OOM kill would."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)
        # Workers are reparented on the master's death; wait until the kernel has reaped them.
        wait_until(lambda: not self.worker_pids(), 30, message="killed workers to go away")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass
        try:  # anything left in the group (a worker the master failed to reap)
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def output(self):
        return self.log_path.read_text(errors="replace")

    def close(self):
        self.stop()
        self.log_path.unlink(missing_ok=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.close()


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
        try:
            while self._running.is_set():
                readable, _, _ = select.select(list(peers), [], [], 0.2)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            pass
        finally:
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

    The schema stores a mentor's pause only as its active record (a mentor is paused exactly
    while it has one), so the checks are: at most one active record per mentor, no record
    without its mentor, dates in order, a stored base status that is never "paused", and list
    totals equal to what the tables hold.
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
    for (mentor_id,) in rows("SELECT mentor_id FROM mentor_status WHERE last_updated < created_at"):
        problems.append(f"mentor {mentor_id!r} was updated before it was created")
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
    return problems


def http_get_json(base_url):
    def get(path, params):
        response = requests.get(base_url + path, params=params, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    return get
