"""Indexes for "who is out, and when" (windows.py, queries.py, pause_record_lists.py): the pauses
whose span overlaps a window are read, and counted, as two index-only range scans, one per branch of
the overlap:

- pauses with an end date, from the window's start along their end (`pause_record_ended_span`) or
  up to the window's end along their start (`pause_record_started_span`), whichever range is the
  shorter for that window (a window in the past, ahead);
- pauses without one (the active ones), up to the window's end along their start, with their
  expected return in the index (`pause_record_open_span`);

each carrying `mentor_id`, so that the mentors out in a window are counted without reading a table
row; and the inactive mentors (`mentor_status_inactive`), so that those of them who are out are
found without reading every mentor. Built as migration 0006 builds its indexes (see there), and
like them buildable beforehand with `CONCURRENT_STATEMENTS` (docs/operations.md).
"""
from peewee import PostgresqlDatabase

INDEXES = {
    "pause_record_ended_span": "pause_record (end_date, start_date, mentor_id) WHERE end_date IS NOT NULL",
    "pause_record_started_span": "pause_record (start_date, end_date, mentor_id) WHERE end_date IS NOT NULL",
    "pause_record_open_span": "pause_record (start_date, expected_return_date, mentor_id) WHERE end_date IS NULL",
    "mentor_status_inactive": "mentor_status (mentor_id) WHERE base_status = 'inactive'",
}
CONCURRENT_STATEMENTS = [f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {target}"
                         for name, target in INDEXES.items()]


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        invalid = db.execute_sql(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE NOT i.indisvalid AND c.relname = ANY(%s)", (list(INDEXES),)).fetchall()
        for (name,) in invalid:
            db.execute_sql(f"DROP INDEX {name}")
    for name, target in INDEXES.items():
        db.execute_sql(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def down(migrator, db):
    for name in INDEXES:
        db.execute_sql(f"DROP INDEX IF EXISTS {name}")
