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
from mentor_status_service.db import index_builds

INDEXES = {
    "pause_record_ended_span": "pause_record (end_date, start_date, mentor_id) WHERE end_date IS NOT NULL",
    "pause_record_started_span": "pause_record (start_date, end_date, mentor_id) WHERE end_date IS NOT NULL",
    "pause_record_open_span": "pause_record (start_date, expected_return_date, mentor_id) WHERE end_date IS NULL",
    "mentor_status_inactive": "mentor_status (mentor_id) WHERE base_status = 'inactive'",
}
CONCURRENT_STATEMENTS = index_builds.concurrent_statements(INDEXES)


def up(migrator, db):
    index_builds.build(db, INDEXES)


def down(migrator, db):
    index_builds.drop(db, INDEXES)
