"""Who is out, and when, at scale: `python -m bench.windows --rows 1000000` seeds a throwaway
PostgreSQL database (dropped and recreated: `--pg-url`, env BENCH_DATABASE_URL) and prints, for
31-day windows in the past, around now and ahead, the median time of the first page of each window
list (in process, through the Flask test client), and with `--explain` the plan of every statement
the slowest one ran. docs/benchmarks.md ("Who is out") has the figures and what they show.

The data: mentor i is inactive when i % 20 == 5; paused when i % 10 == 0 (begun in the last 60 days,
no expected return when i % 30 == 0, else due back 1 to 89 days after its start); mentor i % 10 == 3
has a pause that ended in the past year, i % 10 == 7 one ahead in the coming year, 1 to 30 days long.
"""
import argparse
import datetime as dt
import os
import statistics
import time
from urllib.parse import urlparse, urlunparse

import peewee
import psycopg2

from mentor_status_service import create_app
from mentor_status_service.db import database, migrate
from mentor_status_service.pausing import totals

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/bench_windows"
NOW = "date_trunc('second', now() AT TIME ZONE 'UTC')"
SEED = [
    """INSERT INTO mentor_status (mentor_id, base_status, metadata, created_at, last_updated)
       SELECT 'mentor-' || lpad(i::text, 7, '0'), CASE WHEN i % 20 = 5 THEN 'inactive' ELSE 'active' END, '{{}}',
              timestamp '2026-01-01' + i * interval '1 second', timestamp '2026-01-01' + i * interval '1 second'
       FROM generate_series(1, {rows}) i""",
    f"""INSERT INTO pause_record (mentor_id, start_date, expected_return_date, end_date, reason, created_at, state)
       SELECT 'mentor-' || lpad(i::text, 7, '0'), {NOW} - ((i / 10) % 60) * interval '1 day',
              CASE WHEN i % 30 = 0 THEN NULL ELSE {NOW} - ((i / 10) % 60) * interval '1 day'
                   + (1 + (i / 10) % 89) * interval '1 day' END,
              NULL, 'personal_leave', {NOW} - ((i / 10) % 60) * interval '1 day', 'active'
       FROM generate_series(10, {{rows}}, 10) i""",
    f"""INSERT INTO pause_record (mentor_id, start_date, expected_return_date, end_date, reason, created_at, state)
       SELECT 'mentor-' || lpad(i::text, 7, '0'), {NOW} - (400 - (i / 10) % 365) * interval '1 day', NULL,
              {NOW} - (400 - (i / 10) % 365) * interval '1 day' + (1 + i % 30) * interval '1 day', 'training',
              {NOW} - (400 - (i / 10) % 365) * interval '1 day', 'ended'
       FROM generate_series(3, {{rows}}, 10) i""",
    f"""INSERT INTO pause_record (mentor_id, start_date, expected_return_date, end_date, reason, created_at, state)
       SELECT 'mentor-' || lpad(i::text, 7, '0'), {NOW} + (1 + (i / 10) % 365) * interval '1 day', NULL,
              {NOW} + (1 + (i / 10) % 365) * interval '1 day' + (1 + i % 30) * interval '1 day', 'training', {NOW},
              'scheduled'
       FROM generate_series(7, {{rows}}, 10) i""",
]
MENTORS, RECORDS = "/api/v1/mentor-statuses", "/api/v1/pause-records"


def seed(url, rows):
    """A fresh database at `url`, migrated by the service's own code, filled and analysed."""
    parsed = urlparse(url)
    admin = psycopg2.connect(urlunparse(parsed._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {parsed.path.lstrip('/')}")
        cursor.execute(f"CREATE DATABASE {parsed.path.lstrip('/')}")
    admin.close()
    app = create_app({"DATABASE_URL": url})
    migrate()
    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        for statement in SEED:
            cursor.execute(statement.format(rows=rows))
        totals.recount(database)  # which deletes the deltas the triggers wrote meanwhile
        # What autovacuum does soon in a live database: the deltas' dead rows gone, the visibility
        # map that index-only scans need, planner statistics.
        cursor.execute("VACUUM ANALYZE")
    connection.close()
    return app


def cases(now):
    def window(start, end):
        return f"{now + dt.timedelta(days=start):%Y-%m-%dT%H:%M:%S}/{now + dt.timedelta(days=end):%Y-%m-%dT%H:%M:%S}"

    for name, (start, end) in {"past": (-200, -169), "now": (-7, 24), "ahead": (100, 131)}.items():
        during = window(start, end)
        yield f"records during {name}", RECORDS, {"during": during}
        yield f"records during {name}, -start_date", RECORDS, {"during": during, "sort": "-start_date"}
        for parameter, label in (("out_during", "out"), ("available_during", "available")):
            yield f"{label} {name}", MENTORS, {parameter: during}
            yield f"{label} {name}, status=active", MENTORS, {parameter: during, "status": "active"}
            yield f"{label} {name}, -last_updated", MENTORS, {parameter: during, "sort": "-last_updated"}
            yield f"{label} {name}, expected_return_date", MENTORS, {parameter: during, "sort": "expected_return_date"}


def explain(client, path, query):
    """The plan of every statement a request runs, as EXPLAIN ANALYZE shows it."""
    statements = []
    execute = peewee.PostgresqlDatabase.execute_sql

    def record(db, sql, params=None, *args, **kwargs):
        statements.append((sql, params))
        return execute(db, sql, params, *args, **kwargs)

    peewee.PostgresqlDatabase.execute_sql = record
    try:
        client.get(path, query_string=query)
    finally:
        peewee.PostgresqlDatabase.execute_sql = execute
    db = database.obj
    with db.connection_context():
        for sql, params in statements:
            sql = sql.split("; ", 1)[1] if sql.startswith("SET LOCAL") else sql
            if "pause_record" in sql or "mentor_status" in sql:
                print("\n" + sql)
                for (line,) in db.execute_sql("EXPLAIN (ANALYZE, COSTS OFF) " + sql, params).fetchall():
                    print("   ", line)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.windows", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="mentors (default %(default)s)")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG_URL))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="also the plans of the slowest case")
    args = parser.parse_args(argv)
    client = seed(args.pg_url, args.rows).test_client()
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    slowest = (0, None)
    for label, path, query in cases(now):
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            response = client.get(path, query_string=query)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.json
        median = statistics.median(times)
        slowest = max(slowest, (median, (path, query)), key=lambda pair: pair[0])
        print(f"{label:45s} {median:9.1f} ms  total {response.json['pagination']['total']}")
    if args.explain:
        explain(client, *slowest[1])
    database.close_all()


if __name__ == "__main__":
    main()
