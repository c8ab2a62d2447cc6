"""Indexes for the sorted lists that a filter narrows (`python -m bench --scale` measures every
filter crossed with every sort; docs/benchmarks.md has the figures): without them, a filtered list
sorted by a date read the date's index in order and threw away every row the filter refused, which
at 1,000,000 rows meant hundreds of thousands of rows before the first page (the active pauses all
come first in the ended pauses' order, and the other way round):

- pause records by each sortable date within `is_active` (partial on `state`, as 0010 made every
  "active" index: the active ones, or all the others, then sequence number), and within a `reason`
  (reason, date, sequence number);
- mentors by `last_updated` or `created_at` within their stored status (`status=inactive`).

`pause_record_active_by_return` takes the place of `pause_record_active_expected_return` (0001,
rebuilt on the state by 0010),
whose every use (counting the due pauses) it serves as well: one index less to keep per write.

Built as 0006 builds its indexes (plain CREATE INDEX in the migration's transaction; IF NOT EXISTS,
so that `CONCURRENT_STATEMENTS`, run beforehand on a live database, leave it nothing to build; an
invalid index left by a failed concurrent build is dropped and built again).
"""
from mentor_status_service.db import index_builds

INDEXES = {
    "pause_record_active_by_return": "pause_record (expected_return_date, id) WHERE state = 'active'",
    "pause_record_active_created": "pause_record (created_at, id) WHERE state = 'active'",
    # is_active=false: every state but active (ended, and scheduled since 0010), as queries.py asks it.
    "pause_record_ended_start": "pause_record (start_date, id) WHERE state <> 'active'",
    "pause_record_ended_by_return": "pause_record (expected_return_date, id) WHERE state <> 'active'",
    "pause_record_ended_created": "pause_record (created_at, id) WHERE state <> 'active'",
    "pause_record_reason_start": "pause_record (reason, start_date, id)",
    "pause_record_reason_by_return": "pause_record (reason, expected_return_date, id)",
    "pause_record_reason_created": "pause_record (reason, created_at, id)",
    "mentor_status_status_last_updated": "mentor_status (base_status, last_updated, mentor_id)",
    "mentor_status_status_created_at": "mentor_status (base_status, created_at, mentor_id)",
}
REPLACED = "pause_record_active_expected_return"
CONCURRENT_STATEMENTS = index_builds.concurrent_statements(INDEXES)


def up(migrator, db):
    index_builds.build(db, INDEXES)
    db.execute_sql(f"DROP INDEX IF EXISTS {REPLACED}")


def down(migrator, db):
    db.execute_sql(f"CREATE INDEX IF NOT EXISTS {REPLACED} ON pause_record (expected_return_date) "
                   "WHERE state = 'active'")
    index_builds.drop(db, INDEXES)
