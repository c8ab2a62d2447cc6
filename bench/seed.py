"""Throwaway databases for the benchmark: created, migrated by the service's own code, then
filled fast with direct SQL (COPY on PostgreSQL, one executemany transaction on SQLite).

The data, for mentors i = 1..rows (ids `mentor-0000001`...; zero-padded so byte order is numeric):
- mentor i is paused when i % 10 == 0, inactive when i % 20 == 5, else active;
- pause record i (`pause-rec-000i`) belongs to mentor i: the active pause of a paused mentor,
  else a closed pause from 2025;
- the change log as the writes that made this data would have left it: for each mentor, its
  `created` entry and its pause record's, then for a paused mentor the `updated` entry that paused
  it, and for every mentor with i % 100 == 1 a history of HISTORY_UPDATES metadata updates more;
  the head row hands out the next change id after them.
bench/lua/*.lua rely on exactly this layout.
"""
import datetime as dt
import io
import json
import sqlite3
from urllib.parse import urlparse, urlunparse

import psycopg2

from mentor_status_service.db import migrate, open_database
from mentor_status_service.pausing import totals

CHUNK = 50_000
METADATA = '{"initiated_by":"coordinator-007","notes":"seeded by bench"}'
EPOCH = dt.datetime(2026, 1, 1)
SQL_TIME = "%Y-%m-%d %H:%M:%S"


def mentor_id(i):
    return f"mentor-{i:07d}"


def is_paused(i):
    return i % 10 == 0


HISTORY_UPDATES = 24
PAUSED_AT = "2026-03-01 00:00:00"


def has_long_history(i):
    return i % 100 == 1


def mentor_metadata(i):
    """The metadata a mentor has now: the last of its history's updates wrote it."""
    if has_long_history(i):
        return json.dumps(_revision(HISTORY_UPDATES), separators=(",", ":"))
    return METADATA


def _revision(number):
    return {"initiated_by": "coordinator-007", "notes": "seeded by bench", "revision": number}


def _created_at(i):
    return (EPOCH + dt.timedelta(seconds=i)).strftime(SQL_TIME)


def mentor_rows(rows):
    for i in range(1, rows + 1):
        created = _created_at(i)
        updated = PAUSED_AT if is_paused(i) else created
        yield (mentor_id(i), "inactive" if i % 20 == 5 else "active", mentor_metadata(i), created, updated,
               "1" if is_paused(i) else "0")


def pause_record_rows(rows):
    for i in range(1, rows + 1):
        if is_paused(i):
            returns = (dt.datetime(2026, 5, 1) + dt.timedelta(days=i % 30)).strftime(SQL_TIME)
            yield mentor_id(i), PAUSED_AT, returns, None, "personal_leave", PAUSED_AT, "active"
        else:
            yield (mentor_id(i), "2025-06-01 00:00:00", "2025-07-01 00:00:00", "2025-07-01 00:00:00",
                   "certification_expiry", "2025-06-01 00:00:00", "ended")


def _api_time(sql_time):
    return None if sql_time is None else sql_time.replace(" ", "T") + "Z"


def _mentor_document(i, status, metadata, last_updated, pause=None):
    """Mentor i as the API shows it (the fields of MentorStatusSchema, in its order)."""
    return {"mentor_id": mentor_id(i), "status": status, "is_paused": pause is not None,
            "pause_start_date": _api_time(pause and pause[1]), "expected_return_date": _api_time(pause and pause[2]),
            "pause_reason": pause and pause[4], "metadata": metadata, "created_at": _api_time(_created_at(i)),
            "last_updated": _api_time(last_updated)}


def _pause_document(i, pause):
    _, start, returns, end, reason, created, state = pause
    return {"pause_record_id": f"pause-rec-{i:04d}", "mentor_id": mentor_id(i), "start_date": _api_time(start),
            "expected_return_date": _api_time(returns), "end_date": _api_time(end), "is_active": state == "active",
            "state": state, "reason": reason, "created_at": _api_time(created)}


def mentor_documents(rows):
    """Every seeded mentor as the API shows it now."""
    for i, pause in zip(range(1, rows + 1), pause_record_rows(rows)):
        base_status = "inactive" if i % 20 == 5 else "active"
        metadata = json.loads(mentor_metadata(i))
        if is_paused(i):
            yield _mentor_document(i, "paused", metadata, PAUSED_AT, pause)
        else:
            yield _mentor_document(i, base_status, metadata, _created_at(i))


def change_entry_rows(rows):
    """(change_id, at, actor, request_id, resource, resource_id, mentor_id, event, before, after) in
    change id order, as described at the top."""
    change_id = 0

    def entry(at, resource, resource_id, i, event, before, after):
        nonlocal change_id
        change_id += 1
        return (str(change_id), at, "bench-seed", f"seed-{i}", resource, resource_id, mentor_id(i), event,
                None if before is None else json.dumps(before, separators=(",", ":")),
                None if after is None else json.dumps(after, separators=(",", ":")))

    base_metadata = json.loads(METADATA)
    for i, pause in zip(range(1, rows + 1), pause_record_rows(rows)):
        created = _created_at(i)
        base_status = "inactive" if i % 20 == 5 else "active"
        mentor = _mentor_document(i, base_status, base_metadata, created)
        yield entry(created, "mentor_status", mentor_id(i), i, "created", None, mentor)
        yield entry(pause[5], "pause_record", f"pause-rec-{i:04d}", i, "created", None, _pause_document(i, pause))
        if is_paused(i):
            paused = _mentor_document(i, "paused", base_metadata, PAUSED_AT, pause)
            yield entry(PAUSED_AT, "mentor_status", mentor_id(i), i, "updated", mentor, paused)
            mentor = paused
        if has_long_history(i):
            for number in range(1, HISTORY_UPDATES + 1):
                at = (EPOCH + dt.timedelta(days=number, seconds=i)).strftime(SQL_TIME)
                updated = {**mentor, "metadata": _revision(number), "last_updated": _api_time(at)}
                yield entry(at, "mentor_status", mentor_id(i), i, "updated", mentor, updated)
                mentor = updated


# `paused` as the database's triggers keep it (migration 0014), so that they find nothing to change.
MENTOR_COLUMNS = ("mentor_id", "base_status", "metadata", "created_at", "last_updated", "paused")
PAUSE_COLUMNS = ("mentor_id", "start_date", "expected_return_date", "end_date", "reason", "created_at", "state")
CHANGE_COLUMNS = ("change_id", "at", "actor", "request_id", "resource", "resource_id", "mentor_id", "event",
                  "before_state", "after_state")
HEAD_SQL = ("UPDATE change_log_head SET last_change_id = (SELECT COALESCE(MAX(change_id), 0) FROM change_entry), "
            "pruned_through = 0 WHERE id = 1")


def migrate_url(url):
    database = open_database(url)
    try:
        migrate(database)
    finally:
        database.close()


def recount_url(url):
    """The list totals and the totals per reason the service keeps as it writes, counted once after
    the bulk load."""
    database = open_database(url)
    try:
        totals.recount(database)
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
            _insert_sqlite(connection, "change_entry", CHANGE_COLUMNS, change_entry_rows(rows))
            connection.execute(HEAD_SQL)
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
            _copy(cursor, "change_entry", CHANGE_COLUMNS, change_entry_rows(rows))
            cursor.execute(HEAD_SQL)
        recount_url(url)  # once committed; it deletes the deltas the triggers wrote during the COPY
        # What autovacuum would soon do in a live database: the deltas' dead rows gone (every total
        # read past 2,000,000 of them at 1,000,000 rows), planner statistics, visibility map.
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    finally:
        connection.close()
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
        buffer.write("\t".join(r"\N" if value is None else _copy_text(value) for value in row) + "\n")
        count += 1
        if count % CHUNK == 0:
            _flush(cursor, table, columns, buffer)
            buffer = io.StringIO()
    _flush(cursor, table, columns, buffer)


def _copy_text(value):
    """COPY's text format reads backslash escapes: a JSON value's own backslashes are doubled."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _flush(cursor, table, columns, buffer):
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
