"""Whether a mentor is paused, stored on its row (`mentor_status.paused`), so that a mentor list
filtered by it (`status`, `is_paused`, and those that imply paused: `overdue=true`,
`expected_return_before`) and sorted by a mentor column (`last_updated`, `created_at`) is one range
of one index. Before it, the filter lived in `pause_record` and the order in `mentor_status`, and
the database walked the mentors in order probing each one's pause: at 1,000,000 mentors, whose
100,000 paused ones all come last by `last_updated` (pausing updates it), 900,000 probes before
the first paused one (17-82x the time at 10,000 rows, some past the statement timeout).

Kept by triggers on `pause_record`, not by each write in Python, as 0012 keeps a pause's version:
every way a pause starts or stops being active (a request, a load, a scheduled moment, an erasure,
SQL run by an operator) sets it, and it is read again from the pauses themselves (the mentor has an
active pause or not) rather than flipped, so that a statement changing several of a mentor's pauses
leaves it right. A row is written only when the flag changes.

Indexes: the paused mentors, and the others, each by `last_updated` and by `created_at` (for
`is_paused` and `status=paused`); the others by base status, then either (`status=active|inactive`), in
place of 0011's by base status, which listed paused mentors among their base status's; and the
active pauses by end date.
"""
from peewee import PostgresqlDatabase

from mentor_status_service.db import index_builds, row_triggers

# Partial on `paused`, written as the lists write it (lookups.paused_is), rather than led by it: a
# partial index is smaller than the one by (last_updated, mentor_id) of 0006, so both planners take
# it for a filtered list, where they took the smaller unfiltered one and filtered 100,000 rows.
INDEXES = {
    "mentor_status_paused_last_updated": "mentor_status (last_updated, mentor_id) WHERE paused = TRUE",
    "mentor_status_paused_created_at": "mentor_status (created_at, mentor_id) WHERE paused = TRUE",
    "mentor_status_unpaused_last_updated": "mentor_status (last_updated, mentor_id) WHERE paused = FALSE",
    "mentor_status_unpaused_created_at": "mentor_status (created_at, mentor_id) WHERE paused = FALSE",
    "mentor_status_unpaused_status_last_updated": "mentor_status (base_status, last_updated, mentor_id) "
                                                  "WHERE paused = FALSE",
    "mentor_status_unpaused_status_created_at": "mentor_status (base_status, created_at, mentor_id) "
                                                "WHERE paused = FALSE",
    # Not mentors': the active pauses by end date (is_active=true or state=active, sort=end_date),
    # which read every ended pause's end along `pause_record_end` before the first active one.
    "pause_record_active_end": "pause_record (end_date, id) WHERE state = 'active'",
}
REPLACED = {"mentor_status_status_last_updated": "mentor_status (base_status, last_updated, mentor_id)",
            "mentor_status_status_created_at": "mentor_status (base_status, created_at, mentor_id)"}
CONCURRENT_STATEMENTS = index_builds.concurrent_statements(INDEXES)


def _paused(mentor):
    return f"EXISTS (SELECT 1 FROM pause_record a WHERE a.mentor_id = {mentor} AND a.state = 'active')"


def _set_paused(mentor):
    paused = _paused(mentor)
    return f"UPDATE mentor_status SET paused = {paused} WHERE mentor_id = {mentor} AND paused <> {paused}"


# When a pause's being active may have changed: inserted active, deleted active, or its state or
# mentor changed (the WHEN clauses keep every other write from paying for the trigger).
_TRIGGERS = {"INSERT": ("pause_record_paused_insert", "NEW.state = 'active'"),
             "DELETE": ("pause_record_paused_delete", "OLD.state = 'active'"),
             "UPDATE OF state, mentor_id": ("pause_record_paused_update",
                                            "(OLD.state = 'active' OR NEW.state = 'active') AND "
                                            "(OLD.state <> NEW.state OR OLD.mentor_id <> NEW.mentor_id)")}
_FUNCTION = "mentor_status_paused"


def _statements(postgresql):
    column = "BOOLEAN NOT NULL DEFAULT FALSE" if postgresql else "INTEGER NOT NULL DEFAULT 0"
    return [f"ALTER TABLE mentor_status ADD COLUMN paused {column}",
            f"UPDATE mentor_status SET paused = TRUE WHERE {_paused('mentor_status.mentor_id')}",
            *row_triggers.create_statements(postgresql, "pause_record", _FUNCTION, _TRIGGERS,
                                            lambda row: _set_paused(f"{row}.mentor_id"))]


def up(migrator, db):
    for statement in _statements(isinstance(db, PostgresqlDatabase)):
        db.execute_sql(statement)
    index_builds.build(db, INDEXES)
    index_builds.drop(db, REPLACED)


def down(migrator, db):
    row_triggers.drop(db, "pause_record", _TRIGGERS, _FUNCTION)
    index_builds.build(db, REPLACED)
    index_builds.drop(db, INDEXES)
    db.execute_sql("ALTER TABLE mentor_status DROP COLUMN paused")
