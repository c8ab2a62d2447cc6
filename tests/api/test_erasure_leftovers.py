"""Erasure leaves nothing behind on SQLite: deleted content is zeroed (secure_delete) and the WAL
is checkpointed and truncated once the delete commits, so neither file still holds it."""
from pathlib import Path

import pytest
from factories import create_mentor, create_pause

from mentor_status_service.db import database

ERASED = "erase-me-7f3a9c51d2"


# SQLite only: PostgreSQL keeps dead rows until VACUUM, as docs/operations.md says.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_erased_mentor_is_in_neither_the_database_file_nor_its_wal(client, database_url):
    path = Path(database_url[len("sqlite:///"):])
    create_mentor(client, "mentor-001", metadata={"note": f"{ERASED}-created"})
    create_mentor(client, "mentor-002", metadata={"note": "kept"})
    create_pause(client, "mentor-001")
    for version in range(3):
        response = client.put("/api/v1/mentor-statuses/mentor-001", json={"metadata": {"note": f"{ERASED}-{version}"}})
        assert response.status_code == 200
    assert ERASED.encode() in path.read_bytes() + Path(f"{path}-wal").read_bytes()

    assert client.delete("/api/v1/mentor-statuses/mentor-001").status_code == 200

    for leftover in (path, Path(f"{path}-wal")):
        assert ERASED.encode() not in (leftover.read_bytes() if leftover.exists() else b""), leftover.name
    assert b"kept" in path.read_bytes() + Path(f"{path}-wal").read_bytes()
    assert database.execute_sql("PRAGMA secure_delete").fetchone()[0] == 1
