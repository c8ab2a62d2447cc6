"""SQLite's WAL is checkpointed by a thread of each process, not by the write that crosses SQLite's
threshold while it holds the write turn (mentor_status_service/db/checkpoints.py)."""
import time
from pathlib import Path

import pytest
from factories import create_mentor

from mentor_status_service.db import database
from mentor_status_service.db.checkpoints import CHECKPOINT_EVERY, FALLBACK_AUTOCHECKPOINT

MARK = "checkpointed-4c1e9b"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_writes_reach_the_database_file_after_every_few_commits(client, database_url):
    path = Path(database_url[len("sqlite:///"):])
    database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")  # the migrations' pages out of the way
    # A few pages each, far from SQLite's own threshold (1,000 pages); one of any CHECKPOINT_EVERY
    # commits in a row wakes the checkpointer, after the first of them.
    for number in range(CHECKPOINT_EVERY):
        create_mentor(client, f"mentor-{number:03d}", metadata={"note": f"{MARK}-{number}"})

    deadline = time.monotonic() + 5
    while f"{MARK}-0".encode() not in path.read_bytes():
        assert time.monotonic() < deadline, "the first write never reached the database file"
        time.sleep(0.02)
    assert client.get("/api/v1/mentor-statuses/mentor-000").json["metadata"] == {"note": f"{MARK}-0"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_commit_checkpoints_by_itself_only_past_the_fallback(client):
    create_mentor(client, "mentor-001")  # a connection of the pool, opened with the service's pragmas

    assert database.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0] == FALLBACK_AUTOCHECKPOINT
