"""Indexes for the sorted lists a coordinator opens (queries.py reads each sort as keyset branches:
its values in (value, tie) order, then its nulls in tie order), on both backends:

- mentors by `last_updated` or `created_at` (every filter reads them in that order);
- paused mentors by their active pause's `expected_return_date` or `start_date`, then mentor_id
  (partial, as `pause_record_one_active_per_mentor`);
- pause records by each sortable date, then sequence number; the active ones by start date; and
  by reason, then end date (a reason's records with an end date, and then those without, each in
  order however few of them there are).

Built with a plain CREATE INDEX, inside the migration's transaction, not CONCURRENTLY:
`schema.migrate` runs every PostgreSQL migration in one transaction holding
`pg_advisory_xact_lock` (so that instances starting together, directly or through a transaction
pooler, migrate once), and CREATE INDEX CONCURRENTLY refuses to run in a transaction; run from
another connection it would wait for the migration's own transaction to end, which waits for it.
A plain build lets reads go on and makes writes to the tables wait until it ends: 7.7 s for all
ten at 1,000,000 mentors and pause records (2 busy cores; docs/operations.md). Where that wait is too
long, build the same indexes beforehand with `CONCURRENT_STATEMENTS` (docs/operations.md lists them),
outside any transaction, on the live database: this migration then finds them (IF NOT EXISTS) and builds nothing. A
concurrent build that failed leaves an invalid index; this migration drops and rebuilds those.
"""
from mentor_status_service.db import index_builds

INDEXES = {
    "mentor_status_last_updated": "mentor_status (last_updated, mentor_id)",
    "mentor_status_created_at": "mentor_status (created_at, mentor_id)",
    "pause_record_active_mentor_start": "pause_record (start_date, mentor_id) WHERE end_date IS NULL",
    "pause_record_active_mentor_by_return": "pause_record (expected_return_date, mentor_id) WHERE end_date IS NULL",
    "pause_record_active_start": "pause_record (start_date, id) WHERE end_date IS NULL",
    "pause_record_start": "pause_record (start_date, id)",
    "pause_record_expected_return": "pause_record (expected_return_date, id)",
    "pause_record_end": "pause_record (end_date, id)",
    "pause_record_created": "pause_record (created_at, id)",
    "pause_record_reason_end": "pause_record (reason, end_date, id)",
}
CONCURRENT_STATEMENTS = index_builds.concurrent_statements(INDEXES)


def up(migrator, db):
    index_builds.build(db, INDEXES)


def down(migrator, db):
    index_builds.drop(db, INDEXES)
