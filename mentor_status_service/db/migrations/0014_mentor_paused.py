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

from mentor_status_service.db import index_builds

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
_WHEN = {"INSERT": "NEW.state = 'active'", "DELETE": "OLD.state = 'active'",
         "UPDATE OF state, mentor_id": "(OLD.state = 'active' OR NEW.state = 'active') AND "
                                       "(OLD.state <> NEW.state OR OLD.mentor_id <> NEW.mentor_id)"}
_TRIGGERS = {"INSERT": "pause_record_paused_insert", "DELETE": "pause_record_paused_delete",
             "UPDATE OF state, mentor_id": "pause_record_paused_update"}

_POSTGRESQL = [
    "ALTER TABLE mentor_status ADD COLUMN paused BOOLEAN NOT NULL DEFAULT FALSE",
    f"UPDATE mentor_status m SET paused = TRUE WHERE {_paused('m.mentor_id')}",
    "CREATE OR REPLACE FUNCTION mentor_status_paused() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF TG_OP <> 'INSERT' THEN {_set_paused('OLD.mentor_id')}; END IF; "
    f"IF TG_OP <> 'DELETE' THEN {_set_paused('NEW.mentor_id')}; END IF; "
    "RETURN NULL; END $$",
    *(f"CREATE TRIGGER {_TRIGGERS[event]} AFTER {event} ON pause_record FOR EACH ROW WHEN ({when}) "
      "EXECUTE FUNCTION mentor_status_paused()" for event, when in _WHEN.items()),
]
_SQLITE = [
    "ALTER TABLE mentor_status ADD COLUMN paused INTEGER NOT NULL DEFAULT 0",
    f"UPDATE mentor_status SET paused = 1 WHERE {_paused('mentor_status.mentor_id')}",
    *(f"CREATE TRIGGER {_TRIGGERS[event]} AFTER {event} ON pause_record FOR EACH ROW WHEN {when} BEGIN "
      + "".join(f"{_set_paused(f'{row}.mentor_id')}; " for row in ("OLD", "NEW")
                if not (row == "OLD" and event == "INSERT" or row == "NEW" and event == "DELETE"))
      + "END" for event, when in _WHEN.items()),
]


def up(migrator, db):
    for statement in _POSTGRESQL if isinstance(db, PostgresqlDatabase) else _SQLITE:
        db.execute_sql(statement)
    index_builds.build(db, INDEXES)
    index_builds.drop(db, REPLACED)


def down(migrator, db):
    postgresql = isinstance(db, PostgresqlDatabase)
    for name in _TRIGGERS.values():
        db.execute_sql(f"DROP TRIGGER IF EXISTS {name}" + (" ON pause_record" if postgresql else ""))
    if postgresql:
        db.execute_sql("DROP FUNCTION IF EXISTS mentor_status_paused()")
    index_builds.build(db, REPLACED)
    index_builds.drop(db, INDEXES)
    db.execute_sql("ALTER TABLE mentor_status DROP COLUMN paused")
