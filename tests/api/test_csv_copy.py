"""On PostgreSQL the database writes a CSV export (COPY, pausing/copy_pages.py); on SQLite the worker
does (`csv` over the cells web/shapes.py generates). Both must send the same bytes: each export of
tricky rows here, over many small batches, is compared byte for byte with what the worker writes
from the rows of the list (the path SQLite takes, and PostgreSQL took before COPY)."""
import csv
import datetime as dt
import io

import pytest
from factories import create_exportable
from peewee import OperationalError

from mentor_status_service import create_app
from mentor_status_service.db import bulk_reads, database, faults
from mentor_status_service.pausing import reads
from mentor_status_service.pausing.rendering import MENTOR_STATUS, PAUSE_RECORD
from mentor_status_service.pausing.windows import Window

MENTORS = "/api/v1/mentor-statuses"
RECORDS = "/api/v1/pause-records"
WINDOW = "2025-01-01T00:00:00Z/2026-02-15T00:00:00Z"  # the pauses of the past, not those begun now

# Written by hand (a restore, a bulk load): what the API would refuse, each cell an edge of CSV or
# of the formula guard. (mentor id, metadata, reason of its ended pause, a timestamp of it)
HAND_WRITTEN = (
    ("=HYPERLINK(\"http://x\")", '{"a":"=1"}', "+1", "2026-01-01 00:00:59.999999"),
    ("-2+3", "=not json", "@SUM(A1)", "2026-01-01 00:00:00.5"),
    ("@x", "", "\tx", "2026-01-01 00:00:00"),
    ("\rcarriage", "\n{}", "=1", "2026-02-01 12:00:00.000001"),
    ("comma,id", '"quoted"', "", "2026-03-01 00:00:00"),
    ("quote\"id", "line\r\nbreak", "a,b", "2026-03-01 00:00:00"),
    ("line\nid", " lead", "'already", "2026-03-01 00:00:00"),
    ("ünïcødé-☃", '{"ü":"☃ \\u2028"}', "ça", "0999-12-31 23:59:59"),
)


def seed(client, app):
    create_exportable(client, 24, 12)
    with app.app_context():
        for mentor_id, metadata, reason, moment in HAND_WRITTEN:
            database.execute_sql(f"INSERT INTO mentor_status (mentor_id, base_status, metadata, created_at, "
                                 f"last_updated) VALUES ({database.param}, 'active', {database.param}, "
                                 f"{database.param}, {database.param})", (mentor_id, metadata, moment, moment))
            database.execute_sql(f"INSERT INTO pause_record (mentor_id, start_date, end_date, state, reason, "
                                 f"created_at) VALUES ({database.param}, {database.param}, {database.param}, 'ended', "
                                 f"{database.param}, {database.param})", (mentor_id, moment, moment, reason, moment))
        database.close()


def written_by_the_worker(app, export, shape, query):
    """The CSV of `export(**query)`'s rows as the worker writes them: `csv` over `shape.cells`."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(shape.header)
    with app.test_request_context():
        for rows in export(**query):
            writer.writerows(map(shape.cells, rows))
        database.close()
    return buffer.getvalue().encode()


@pytest.mark.parametrize("path, query", [
    (MENTORS, {}), (MENTORS, {"sort": "-mentor_id"}), (MENTORS, {"sort": "expected_return_date"}),
    (MENTORS, {"sort": "-pause_start_date"}), (MENTORS, {"sort": "last_updated", "overdue": "false"}),
    (MENTORS, {"sort": "-created_at", "status": "active"}),
    (MENTORS, {"status": "paused", "sort": "-expected_return_date"}),
    (RECORDS, {}), (RECORDS, {"sort": "-pause_record_id"}), (RECORDS, {"sort": "end_date"}),
    (RECORDS, {"sort": "-expected_return_date"}), (RECORDS, {"sort": "start_date", "is_active": "false"}),
    (RECORDS, {"sort": "-created_at", "reason": "travel"}), (RECORDS, {"during": WINDOW}),
    (RECORDS, {"during": WINDOW, "sort": "-end_date"}), (MENTORS, {"out_during": WINDOW, "sort": "-last_updated"}),
])
def test_an_export_is_byte_for_byte_what_the_worker_writes_from_the_lists_rows(client, app, monkeypatch, path, query):
    seed(client, app)
    monkeypatch.setattr(reads, "EXPORT_FIRST_BATCH", 3)  # many batches: the walk goes on from each one's last row
    monkeypatch.setattr(reads, "EXPORT_BATCH", 4)
    export, shape = ((reads.export_mentor_statuses, MENTOR_STATUS) if path == MENTORS
                     else (reads.export_pause_records, PAUSE_RECORD))
    parsed = {key: {"true": True, "false": False}.get(value, value) for key, value in query.items()}
    parsed.update((key, Window(dt.datetime(2025, 1, 1), dt.datetime(2026, 2, 15))) for key in query if "during" in key)
    expected = written_by_the_worker(app, export, shape, parsed)

    body = client.get(path, query_string={**query, "format": "csv"}).get_data()

    assert body == expected
    rows = list(csv.reader(io.StringIO(body.decode(), newline="")))
    assert len(rows) > 3 and {len(row) for row in rows} == {len(shape.header)}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # COPY is PostgreSQL's alone
def test_a_copy_is_bounded_by_the_statement_timeout_and_fails_with_peewees_errors(database_url, app):
    bounded = create_app({"DATABASE_URL": database_url, "TESTING": True, "DB_STATEMENT_TIMEOUT_MS": 50})
    lines = []
    with bounded.app_context():
        with pytest.raises(OperationalError) as raised:
            bulk_reads.copy_csv("SELECT pg_sleep(%s)", [2], lines.append)
        database.close()
    assert faults.sqlstate(raised.value) == "57014" and lines == []  # canceled by the statement timeout
