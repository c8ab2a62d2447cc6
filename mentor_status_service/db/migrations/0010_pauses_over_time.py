"""Pauses over time: a pause record's `state` (scheduled, active, ended) is stored, no longer read
from `end_date` being null, because an active pause may now carry the end_date it will end at.
Every partial index that meant "active" by `end_date IS NULL` is rebuilt on the state.

`next_moment_at` is when the pause's next moment falls due (its start, its end, a notice), so that
the applier finds what is due along one index; `return_due_notice_for` and `overdue_notice_for`
hold the expected_return_date for which each notice was published (or passed before a write set
it), so that each is published once per date value.

Existing rows keep what they showed: a record without end_date is active, any other ended. Notices
whose moment passed before this migration are not published afterwards (nobody is told late that
a pause became overdue months ago); every active pause with an expected return is looked at by the
applier once, which sets its next moment. The change log's `event` also takes the two notices.
"""
from peewee import PostgresqlDatabase

ACTIVE_INDEXES = {
    "pause_record_active": "pause_record (id)",
    "pause_record_active_expected_return": "pause_record (expected_return_date)",
    "pause_record_active_mentor_expected_return": "pause_record (mentor_id, expected_return_date)",
    "pause_record_active_mentor_start": "pause_record (start_date, mentor_id)",
    "pause_record_active_mentor_by_return": "pause_record (expected_return_date, mentor_id)",
    "pause_record_active_start": "pause_record (start_date, id)",
}
EVENTS = ("created", "updated", "deleted", "return_due", "overdue")
_EVENT_CHECK = "CHECK (event IN (" + ", ".join(f"'{event}'" for event in EVENTS) + "))"


def up(migrator, db):
    postgresql = isinstance(db, PostgresqlDatabase)
    now = "(now() AT TIME ZONE 'UTC')" if postgresql else "CURRENT_TIMESTAMP"
    statements = [
        "ALTER TABLE pause_record ADD COLUMN state VARCHAR(9) NOT NULL DEFAULT 'active' "
        "CHECK (state IN ('scheduled', 'active', 'ended'))",
        "ALTER TABLE pause_record ADD COLUMN next_moment_at TIMESTAMP NULL",
        "ALTER TABLE pause_record ADD COLUMN return_due_notice_for TIMESTAMP NULL",
        "ALTER TABLE pause_record ADD COLUMN overdue_notice_for TIMESTAMP NULL",
        "UPDATE pause_record SET state = 'ended' WHERE end_date IS NOT NULL",
        f"UPDATE pause_record SET return_due_notice_for = expected_return_date, overdue_notice_for = "
        f"expected_return_date WHERE state = 'active' AND expected_return_date <= {now}",
        f"UPDATE pause_record SET next_moment_at = {now} WHERE state = 'active' AND expected_return_date IS NOT NULL",
        "DROP INDEX pause_record_one_active_per_mentor",
        "CREATE UNIQUE INDEX pause_record_one_active_per_mentor ON pause_record (mentor_id) WHERE state = 'active'",
        "DROP INDEX pause_record_ended",
        "CREATE INDEX pause_record_ended ON pause_record (id) WHERE state = 'ended'",
        "CREATE INDEX pause_record_scheduled ON pause_record (id) WHERE state = 'scheduled'",
        "CREATE INDEX pause_record_not_active ON pause_record (id) WHERE state <> 'active'",
        "CREATE INDEX pause_record_next_moment ON pause_record (next_moment_at) WHERE next_moment_at IS NOT NULL",
        "ALTER TABLE list_totals ADD COLUMN pauses_scheduled BIGINT NOT NULL DEFAULT 0",
        "ALTER TABLE list_totals_delta ADD COLUMN pauses_scheduled INTEGER NOT NULL DEFAULT 0",
    ]
    for name, target in ACTIVE_INDEXES.items():
        statements += [f"DROP INDEX IF EXISTS {name}", f"CREATE INDEX {name} ON {target} WHERE state = 'active'"]
    for statement in statements:
        db.execute_sql(statement)
    if postgresql:
        for statement in ["ALTER TABLE change_entry DROP CONSTRAINT IF EXISTS change_entry_event_check",
                          "ALTER TABLE change_entry ALTER COLUMN event TYPE VARCHAR(16)",
                          f"ALTER TABLE change_entry ADD CONSTRAINT change_entry_event_check {_EVENT_CHECK}"]:
            db.execute_sql(statement)
    else:
        _rebuild_sqlite_change_entry(db, _EVENT_CHECK)


def _rebuild_sqlite_change_entry(db, event_check):
    """SQLite cannot alter a CHECK constraint: the table is copied into one that has the new one
    (as SQLite's documentation for ALTER TABLE describes), inside the migration's transaction."""
    for statement in [
        f"""CREATE TABLE change_entry_new (
            change_id INTEGER NOT NULL PRIMARY KEY,
            at TIMESTAMP NOT NULL,
            actor TEXT NOT NULL,
            request_id TEXT NOT NULL,
            resource VARCHAR(16) NOT NULL CHECK (resource IN ('mentor_status', 'pause_record')),
            resource_id TEXT NOT NULL,
            mentor_id TEXT NOT NULL,
            event VARCHAR(16) NOT NULL {event_check},
            before_state TEXT NULL,
            after_state TEXT NULL
        )""",
        "INSERT INTO change_entry_new SELECT change_id, at, actor, request_id, resource, resource_id, mentor_id, "
        "event, before_state, after_state FROM change_entry",
        "DROP TABLE change_entry",
        "ALTER TABLE change_entry_new RENAME TO change_entry",
        "CREATE INDEX change_entry_mentor ON change_entry (mentor_id, change_id)",
        "CREATE INDEX change_entry_resource ON change_entry (resource, change_id)",
    ]:
        db.execute_sql(statement)


def down(migrator, db):
    postgresql = isinstance(db, PostgresqlDatabase)
    old_check = "CHECK (event IN ('created', 'updated', 'deleted'))"
    db.execute_sql("DELETE FROM change_entry WHERE event IN ('return_due', 'overdue')")
    if postgresql:
        db.execute_sql("ALTER TABLE change_entry DROP CONSTRAINT IF EXISTS change_entry_event_check")
        db.execute_sql(f"ALTER TABLE change_entry ADD CONSTRAINT change_entry_event_check {old_check}")
    else:
        _rebuild_sqlite_change_entry(db, old_check)
    # A scheduled pause has no meaning before this migration: it is dropped, as an ended one would not start.
    db.execute_sql("DELETE FROM pause_record WHERE state = 'scheduled'")
    db.execute_sql("UPDATE pause_record SET end_date = NULL WHERE state = 'active'")
    for name, target in ACTIVE_INDEXES.items():
        db.execute_sql(f"DROP INDEX {name}")
        db.execute_sql(f"CREATE INDEX {name} ON {target} WHERE end_date IS NULL")
    for statement in [
        "DROP INDEX pause_record_one_active_per_mentor",
        "CREATE UNIQUE INDEX pause_record_one_active_per_mentor ON pause_record (mentor_id) WHERE end_date IS NULL",
        "DROP INDEX pause_record_ended",
        "CREATE INDEX pause_record_ended ON pause_record (id) WHERE end_date IS NOT NULL",
        "DROP INDEX pause_record_scheduled",
        "DROP INDEX pause_record_not_active",
        "DROP INDEX pause_record_next_moment",
        "ALTER TABLE pause_record DROP COLUMN overdue_notice_for",
        "ALTER TABLE pause_record DROP COLUMN return_due_notice_for",
        "ALTER TABLE pause_record DROP COLUMN next_moment_at",
        "ALTER TABLE pause_record DROP COLUMN state",
        "ALTER TABLE list_totals DROP COLUMN pauses_scheduled",
        "ALTER TABLE list_totals_delta DROP COLUMN pauses_scheduled",
    ]:
        db.execute_sql(statement)
