"""The change log: one entry per resource changed by each write, and the one row that hands out
change ids in commit order."""
from peewee import PostgresqlDatabase


def up(migrator, db):
    postgresql = isinstance(db, PostgresqlDatabase)
    byte_order_text = 'TEXT COLLATE "C"' if postgresql else "TEXT"
    change_id = "BIGINT NOT NULL PRIMARY KEY" if postgresql else "INTEGER NOT NULL PRIMARY KEY"
    statements = [
        f"""CREATE TABLE change_entry (
            change_id {change_id},
            at TIMESTAMP NOT NULL,
            actor TEXT NOT NULL,
            request_id TEXT NOT NULL,
            resource VARCHAR(16) NOT NULL CHECK (resource IN ('mentor_status', 'pause_record')),
            resource_id TEXT NOT NULL,
            mentor_id {byte_order_text} NOT NULL,
            event VARCHAR(8) NOT NULL CHECK (event IN ('created', 'updated', 'deleted')),
            before_state TEXT NULL,
            after_state TEXT NULL
        )""",
        "CREATE INDEX change_entry_mentor ON change_entry (mentor_id, change_id)",
        "CREATE INDEX change_entry_resource ON change_entry (resource, change_id)",
        """CREATE TABLE change_log_head (
            id INTEGER NOT NULL PRIMARY KEY,
            last_change_id BIGINT NOT NULL,
            pruned_through BIGINT NOT NULL
        )""",
        "INSERT INTO change_log_head (id, last_change_id, pruned_through) VALUES (1, 0, 0)",
    ]
    for statement in statements:
        db.execute_sql(statement)


def down(migrator, db):
    db.execute_sql("DROP TABLE change_log_head")
    db.execute_sql("DROP TABLE change_entry")
