"""Writes that share no row: on PostgreSQL two writes to different mentors never wait for each
other, the feed stays exactly-once when a write is held open after its entries are written (an
interleaving a feed numbered by a plain sequence always gets wrong), and the totals stay exact."""
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest
from factories import assert_consistent, create_mentor
from servers import free_port

from mentor_status_service import create_app
from mentor_status_service.changes import log as change_log
from mentor_status_service.db import database

MENTORS = "/api/v1/mentor-statuses"
HELD = "held-mentor"
pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


class HeldWrite:
    """A write to the mentor HELD that stops after its change entries are written, its
    transaction still open, until `release()`."""

    def __init__(self, app, monkeypatch, body=None):
        self.written, self.released, self.response = threading.Event(), threading.Event(), None
        real_append = change_log._append

        def append_then_wait(entries):
            real_append(entries)
            if entries and entries[0]["mentor_id"] == HELD:
                self.written.set()
                assert self.released.wait(30), "the held write was never released"

        monkeypatch.setattr(change_log, "_append", append_then_wait)
        self._thread = threading.Thread(target=self._write, args=(app, body or {"metadata": {"held": True}}))

    def _write(self, app, body):
        try:
            self.response = app.test_client().put(f"{MENTORS}/{HELD}", json=body)
        finally:
            database.close()

    def __enter__(self):
        self._thread.start()
        assert self.written.wait(30), "the held write never wrote its entries"
        return self

    def release(self):
        self.released.set()
        self._thread.join(30)
        return self.response

    def __exit__(self, *exc_info):
        self.released.set()
        self._thread.join(30)


def follow(client, after):
    """Every entry past `after`, following next_after to the end, and the last next_after."""
    entries = []
    while True:
        body = client.get("/api/v1/changes", query_string={"after": after, "limit": 3}).json
        entries += body["data"]
        after = body["next_after"]
        if not body["data"]:
            return entries, after


def run_interleaving(app, client, monkeypatch):
    """Hold a write open after its entry is written, commit later writes, read the feed to its end,
    then let the held write commit and follow on: what the follower received, and what it missed."""
    create_mentor(client, HELD)
    received, after = follow(client, 0)
    with HeldWrite(app, monkeypatch) as held:
        for number in range(3):
            create_mentor(client, f"later-{number}")
        seen, after = follow(client, after)
        received += seen
        assert held.release().status_code == 200
    seen, after = follow(client, after)
    received += seen
    every = client.get("/api/v1/changes", query_string={"after": 0, "limit": 1000}).json["data"]
    missed = [entry for entry in every if entry["change_id"] not in {seen["change_id"] for seen in received}]
    return received, missed


def test_a_write_held_open_after_its_entry_is_written_is_still_delivered_once_in_order(app, client, monkeypatch):
    received, missed = run_interleaving(app, client, monkeypatch)

    assert missed == []
    ids = [entry["change_id"] for entry in received]
    assert ids == sorted(set(ids)) and all(0 < change_id < 2**53 for change_id in ids)
    held = [entry for entry in received if entry["mentor_id"] == HELD]
    assert [entry["event"] for entry in held] == ["created", "updated"]
    assert held[1]["after"]["metadata"] == {"held": True}
    # The held write committed last, so its entry comes after the later ones in the feed.
    assert received[-1]["mentor_id"] == HELD


def test_the_interleaving_catches_a_feed_numbered_by_a_plain_sequence(app, client, monkeypatch):
    """The test above must be able to fail: with ids from a sequence at INSERT time, the held
    write's entry gets an id below the next_after already handed out, and the follower misses it."""
    database.execute_sql("CREATE SEQUENCE IF NOT EXISTS plain_change_id")

    def number_by_sequence(entries):
        for entry in entries:
            entry["change_id"] = database.execute_sql("SELECT nextval('plain_change_id')").fetchone()[0]
            entry.update(at=change_log.utc_now(), actor="test", request_id="test")
        columns = change_log.ChangeEntry.READ_COLUMNS
        change_log._INSERT_ENTRIES.get((len(entries), columns)).execute(
            *(entry[name] for entry in entries for name in columns))

    monkeypatch.setattr(change_log, "_append", number_by_sequence)
    received, missed = run_interleaving(app, client, monkeypatch)

    assert [(entry["mentor_id"], entry["event"]) for entry in missed] == [(HELD, "updated")]


def test_a_write_to_another_mentor_never_waits_for_an_open_write(app, client, monkeypatch):
    """Two writes to different mentors share no row: while one is held open after its last
    statement, the other (create, pause, resume) commits at once, and no row is locked by both."""
    database.execute_sql("CREATE EXTENSION IF NOT EXISTS pgrowlocks")
    create_mentor(client, HELD)
    create_mentor(client, "other")
    with HeldWrite(app, monkeypatch, body={"status": "paused", "pause_reason": "travel"}) as held:
        held_pid = held_backend()
        other = app.test_client()
        for method, path, body in (("POST", MENTORS, {"mentor_id": "new", "status": "paused"}),
                                   ("PUT", f"{MENTORS}/other", {"status": "paused"}),
                                   ("PUT", f"{MENTORS}/other", {"status": "active"}),
                                   ("DELETE", f"{MENTORS}/new", None)):
            response = other.open(f"{path}", method=method, json=body)
            assert response.status_code in (200, 201), (method, path, response.json)
        locked_by_held = rows_locked_by(held_pid)
        assert held.release().status_code == 200

    # The held write locked its own mentor's row and nothing that every write locks.
    assert locked_by_held == {("mentor_status", 1)}
    assert_consistent(client)


def held_backend():
    """The pid of the PostgreSQL backend whose transaction is open the longest (the held write's)."""
    return database.execute_sql(
        "SELECT pid FROM pg_stat_activity WHERE state = 'idle in transaction' AND datname = current_database() "
        "ORDER BY xact_start LIMIT 1").fetchone()[0]


def rows_locked_by(pid):
    """(table, how many rows) of every table of the service that has rows locked by backend `pid`."""
    tables = [name for (name,) in database.execute_sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()]
    locked = set()
    for table in tables:
        [(count,)] = database.execute_sql(
            f"SELECT COUNT(*) FROM pgrowlocks('{table}') WHERE %s = ANY(pids)", (pid,)).fetchall()
        if count:
            locked.add((table, count))
    return locked


PG_BIN = "/usr/lib/postgresql/15/bin"


@pytest.fixture
def fresh_cluster():
    """A PostgreSQL cluster of its own (initdb, run as the postgres user) on a free port, with an
    empty database `restored`; its URL."""
    if not os.path.exists(f"{PG_BIN}/initdb") or os.geteuid() != 0:
        pytest.skip("needs PostgreSQL 15's initdb and root, to run it as the postgres user")
    # Not under pytest's temporary directory, which only root may enter.
    directory = Path(tempfile.mkdtemp(prefix="mentor-status-cluster-"))
    shutil.chown(directory, "postgres")
    data, port = directory / "data", free_port()

    def as_postgres(*command):
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, timeout=120)

    as_postgres(f"{PG_BIN}/initdb", "-D", str(data), "-A", "trust", "-U", "postgres")
    as_postgres(f"{PG_BIN}/pg_ctl", "-D", str(data), "-l", str(directory / "log"), "-w", "-o",
                f"-p {port} -k {directory} -c listen_addresses=127.0.0.1", "start")
    try:
        as_postgres(f"{PG_BIN}/createdb", "-h", "127.0.0.1", "-p", str(port), "restored")
        yield f"postgresql://postgres@127.0.0.1:{port}/restored"
    finally:
        as_postgres(f"{PG_BIN}/pg_ctl", "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(directory, ignore_errors=True)


@pytest.mark.slow
def test_after_a_dump_and_restore_into_a_new_cluster_the_feed_goes_on(app, client, database_url, fresh_cluster,
                                                                      tmp_path):
    for number in range(5):
        create_mentor(client, f"before-{number}")
    before, next_after = follow(client, 0)
    client.put(f"{MENTORS}/before-0", json={"status": "inactive"})  # written, not yet numbered by any reader
    dump = tmp_path / "mentors.dump"
    subprocess.run([f"{PG_BIN}/pg_dump", "-Fc", "-f", str(dump), database_url], check=True, timeout=120)
    subprocess.run([f"{PG_BIN}/pg_restore", "--no-owner", "-d", fresh_cluster, str(dump)], check=True, timeout=120)
    database.close_all()

    restored = create_app({"DATABASE_URL": fresh_cluster, "TESTING": True}).test_client()
    create_mentor(restored, "after-restore")
    after, _ = follow(restored, next_after)

    assert [(entry["mentor_id"], entry["event"]) for entry in after] == [
        ("before-0", "updated"), ("after-restore", "created")]
    assert min(entry["change_id"] for entry in after) > max(entry["change_id"] for entry in before)
    every, _ = follow(restored, 0)
    assert every == before + after
    database.close_all()
