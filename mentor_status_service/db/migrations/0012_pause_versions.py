"""A version and a modification time on each pause record, for the calendar's SEQUENCE and
LAST-MODIFIED: both move with each change of what a pause shows (its dates or its reason) and stay
for a pause that did not change.

Kept by a trigger in the database rather than by each write in Python, so that every way a pause
changes (a request, a command, a scheduled job, SQL run by an operator) moves them, and an UPDATE
that writes the values already there (a PUT that sends what is stored) moves nothing. Not derived
from the change log: entries are pruned and erased, and a SEQUENCE that went down would make a
calendar client keep the older copy.
"""
from peewee import PostgresqlDatabase

_WATCHED = ("start_date", "expected_return_date", "end_date", "reason")

_POSTGRESQL = [
    "ALTER TABLE pause_record ADD COLUMN version INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE pause_record ADD COLUMN modified_at TIMESTAMP NULL",
    "CREATE OR REPLACE FUNCTION pause_record_version() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF ({', '.join(f'NEW.{name}' for name in _WATCHED)}) IS DISTINCT FROM "
    f"({', '.join(f'OLD.{name}' for name in _WATCHED)}) THEN "
    "NEW.version := OLD.version + 1; "
    "NEW.modified_at := date_trunc('second', clock_timestamp() AT TIME ZONE 'UTC'); "
    "END IF; RETURN NEW; END $$",
    "CREATE TRIGGER pause_record_version BEFORE UPDATE ON pause_record FOR EACH ROW "
    "EXECUTE FUNCTION pause_record_version()",
]
_SQLITE = [
    "ALTER TABLE pause_record ADD COLUMN version INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE pause_record ADD COLUMN modified_at DATETIME NULL",
    # The inner UPDATE sets no watched column, and SQLite's recursive triggers are off: it fires once.
    f"CREATE TRIGGER pause_record_version AFTER UPDATE OF {', '.join(_WATCHED)} ON pause_record FOR EACH ROW "
    f"WHEN {' OR '.join(f'OLD.{name} IS NOT NEW.{name}' for name in _WATCHED)} BEGIN "
    "UPDATE pause_record SET version = OLD.version + 1, modified_at = strftime('%Y-%m-%d %H:%M:%S', 'now') "
    "WHERE id = NEW.id; END",
]


def up(migrator, db):
    for statement in _POSTGRESQL if isinstance(db, PostgresqlDatabase) else _SQLITE:
        db.execute_sql(statement)


def down(migrator, db):
    db.execute_sql("DROP TRIGGER IF EXISTS pause_record_version" +
                   (" ON pause_record" if isinstance(db, PostgresqlDatabase) else ""))
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("DROP FUNCTION IF EXISTS pause_record_version()")
    db.execute_sql("ALTER TABLE pause_record DROP COLUMN modified_at")
    db.execute_sql("ALTER TABLE pause_record DROP COLUMN version")
