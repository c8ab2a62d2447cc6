"""Idempotency keys: per actor, the request a key was first sent with (method, target, a digest of
its body) and, once that request has run, its response. A row whose response is still null is a
request in flight, claimed by `claim` until `lease_until`."""
from peewee import PostgresqlDatabase


def up(migrator, db):
    postgresql = isinstance(db, PostgresqlDatabase)
    seconds = "DOUBLE PRECISION" if postgresql else "REAL"
    statements = [
        f"""CREATE TABLE idempotency_key (
            actor TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            method VARCHAR(8) NOT NULL,
            target TEXT NOT NULL,
            body_digest VARCHAR(64) NOT NULL,
            claim TEXT NULL,
            lease_until {seconds} NULL,
            status INTEGER NULL,
            body TEXT NULL,
            location TEXT NULL,
            etag TEXT NULL,
            expires_at TIMESTAMP NOT NULL,
            PRIMARY KEY (actor, idempotency_key)
        )""",
        "CREATE INDEX idempotency_key_expiry ON idempotency_key (expires_at)",
    ]
    for statement in statements:
        db.execute_sql(statement)


def down(migrator, db):
    db.execute_sql("DROP TABLE idempotency_key")
