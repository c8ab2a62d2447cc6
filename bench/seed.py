"""Throwaway databases for the benchmark: created, migrated by the service's own code, then
filled fast with direct SQL (COPY on PostgreSQL, one executemany transaction on SQLite).

The data, for mentors i = 1..rows (ids `mentor-0000001`...; zero-padded so byte order is numeric):
- mentor i is paused when i % 10 == 0, inactive when i % 20 == 5, else active;
- pause record i (`pause-rec-000i`) belongs to mentor i: the active pause of a paused mentor,
  else a closed pause from 2025.
bench/lua/*.lua rely on exactly this layout.
"""
import datetime as dt
import io
import sqlite3
from urllib.parse import urlparse, urlunparse

import psycopg2

from mentor_status_service.db import migrate, open_database
from mentor_status_service.models import ListTotals

CHUNK = 50_000
METADATA = '{"initiated_by":"coordinator-007","notes":"seeded by bench"}'
EPOCH = dt.datetime(2026, 1, 1)
SQL_TIME = "%Y-%m-%d %H:%M:%S"


def mentor_id(i):
    return f"mentor-{i:07d}"


def is_paused(i):
    return i % 10 == 0


def mentor_rows(rows):
    for i in range(1, rows + 1):
        created = (EPOCH + dt.timedelta(seconds=i)).strftime(SQL_TIME)
        yield mentor_id(i), "inactive" if i % 20 == 5 else "active", METADATA, created, created


def pause_record_rows(rows):
    for i in range(1, rows + 1):
        if is_paused(i):
            returns = (dt.datetime(2026, 5, 1) + dt.timedelta(days=i % 30)).strftime(SQL_TIME)
            yield mentor_id(i), "2026-03-01 00:00:00", returns, None, "personal_leave", "2026-03-01 00:00:00"
        else:
            yield (mentor_id(i), "2025-06-01 00:00:00", "2025-07-01 00:00:00", "2025-07-01 00:00:00",
                   "certification_expiry", "2025-06-01 00:00:00")


MENTOR_COLUMNS = ("mentor_id", "base_status", "metadata", "created_at", "last_updated")
PAUSE_COLUMNS = ("mentor_id", "start_date", "expected_return_date", "end_date", "reason", "created_at")


def migrate_url(url):
    database = open_database(url)
    try:
        migrate(database)
    finally:
        database.close()


def recount_url(url):
    """The list totals the service keeps as it writes, counted once after the bulk load."""
    database = open_database(url)
    try:
        ListTotals.recount(database)
    finally:
        database.close()


# SQLite

def prepare_sqlite(path, rows):
    url = f"sqlite:///{path}"
    migrate_url(url)
    connection = sqlite3.connect(path)
    try:
        with connection:
            _insert_sqlite(connection, "mentor_status", MENTOR_COLUMNS, mentor_rows(rows))
            _insert_sqlite(connection, "pause_record", PAUSE_COLUMNS, pause_record_rows(rows))
        connection.execute("ANALYZE")
    finally:
        connection.close()
    recount_url(url)
    return url


def _insert_sqlite(connection, table, columns, rows):
    marks = ", ".join("?" for _ in columns)
    connection.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


# PostgreSQL

def prepare_postgresql(url, rows):
    """Drops and recreates the database named in `url` (connecting to `postgres` on the same server)."""
    name = urlparse(url).path.lstrip("/")
    _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    migrate_url(url)
    connection = psycopg2.connect(url)
    try:
        with connection, connection.cursor() as cursor:
            _copy(cursor, "mentor_status", MENTOR_COLUMNS, mentor_rows(rows))
            _copy(cursor, "pause_record", PAUSE_COLUMNS, pause_record_rows(rows))
        # What autovacuum would soon do in a live database: planner statistics, visibility map.
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    finally:
        connection.close()
    recount_url(url)
    return url


def drop_postgresql(url):
    name = urlparse(url).path.lstrip("/")
    _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin(url, *statements):
    connection = psycopg2.connect(urlunparse(urlparse(url)._replace(path="/postgres")))
    connection.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
    try:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        connection.close()


def _copy(cursor, table, columns, rows):
    buffer, count = io.StringIO(), 0
    for row in rows:
        buffer.write("\t".join(r"\N" if value is None else value for value in row) + "\n")
        count += 1
        if count % CHUNK == 0:
            _flush(cursor, table, columns, buffer)
            buffer = io.StringIO()
    _flush(cursor, table, columns, buffer)


def _flush(cursor, table, columns, buffer):
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
