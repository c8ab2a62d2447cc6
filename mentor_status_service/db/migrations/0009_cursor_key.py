"""The secret key that seals list cursors (cursors.py), made once per database by this migration:
every instance sharing the database seals and checks with it, cursors survive restarts, and
nobody who has only the source code, or a cursor of another database, can make one that opens."""
import secrets


def up(migrator, db):
    db.execute_sql("CREATE TABLE service_key (name VARCHAR(32) NOT NULL PRIMARY KEY, value TEXT NOT NULL)")
    db.execute_sql(f"INSERT INTO service_key (name, value) VALUES ('cursor', {db.param})", (secrets.token_hex(32),))
