"""What a pause and a resume cost the database itself, and which of its triggers and indexes that is:
`python -m bench.write_costs [--rows 10000] [--pairs 400] [--rounds 3] [--pg-url URL]`.

Seeds a database (bench/seed.py: SQLite in a temporary file unless --pg-url, a PostgreSQL database
this DROPs and recreates), then times pairs of the statements a PUT paused and a PUT active send
(the mentor's row, the pause record's INSERT, then the mentor's row and the pause record's UPDATE
that ends it) on one connection, in a transaction rolled back at the end of each run: once as the
schema is, once without each trigger of `pause_record` and `mentor_status`, once without all of
them, and once without every index of `pause_record` that no write reads. A trigger or an index is
dropped inside the run's transaction, so the rollback brings it back. The runs alternate, round
after round; the median of each is printed, in µs of wall time per pair (on PostgreSQL the server's
work, on SQLite this process's). Commits are not in it (on SQLite, the WAL's writes at COMMIT).
"""
import argparse
import sqlite3
import statistics
import sys
import tempfile
import time

import psycopg2

from . import seed

# What writes read: the key, the one active pause per mentor, a mentor's pauses, the moments due.
WRITES_READ = ("pause_record_pkey", "pause_record_one_active_per_mentor", "pause_record_mentor",
               "pause_record_next_moment")


class Backend:
    def __init__(self, url):
        self.postgresql = url.startswith("postgresql")
        if self.postgresql:
            self.connection = psycopg2.connect(url)
        else:
            self.connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        self.param = "%s" if self.postgresql else "?"

    def rows(self, sql, params=()):
        cursor = self.connection.cursor()
        cursor.execute(sql.replace("?", self.param), params)
        return cursor.fetchall() if cursor.description else cursor

    def begin(self):
        if not self.postgresql:
            self.rows("BEGIN IMMEDIATE")

    def rollback(self):
        self.connection.rollback() if self.postgresql else self.rows("ROLLBACK")

    def triggers(self):
        if self.postgresql:
            found = self.rows("SELECT tgname, tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal AND "
                              "tgrelid IN ('pause_record'::regclass, 'mentor_status'::regclass) ORDER BY 1")
        else:
            found = self.rows("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger' AND "
                              "tbl_name IN ('pause_record', 'mentor_status') ORDER BY 1")
        self.rollback() if self.postgresql else None
        return found

    def indexes(self):
        if self.postgresql:
            found = self.rows("SELECT indexname FROM pg_indexes WHERE tablename = 'pause_record'")
            self.rollback()
        else:
            found = self.rows("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'pause_record' "
                              "AND sql IS NOT NULL")
        return [name for (name,) in found if name not in WRITES_READ]

    def drop_trigger(self, name, table):
        self.rows(f"DROP TRIGGER {name}" + (f" ON {table}" if self.postgresql else ""))

    def pair(self, mentor):
        """A pause and a resume of `mentor`, as the service's PUTs write them."""
        self.rows("UPDATE mentor_status SET last_updated = '2026-12-08 01:00:00' WHERE mentor_id = ?", (mentor,))
        returning = " RETURNING id" if self.postgresql else ""
        inserted = self.rows(
            "INSERT INTO pause_record (mentor_id, start_date, expected_return_date, end_date, reason, created_at, "
            "state, version) VALUES (?, '2026-12-08 01:00:00', '2027-01-01 00:00:00', NULL, 'personal_leave', "
            f"'2026-12-08 01:00:00', 'active', 1){returning}", (mentor,))
        pause_id = inserted[0][0] if self.postgresql else inserted.lastrowid
        self.rows("UPDATE mentor_status SET base_status = 'active', last_updated = '2026-12-08 01:00:01' "
                  "WHERE mentor_id = ?", (mentor,))
        self.rows("UPDATE pause_record SET end_date = '2026-12-08 01:00:01', state = 'ended', next_moment_at = NULL "
                  "WHERE id = ?", (pause_id,))


def run(backend, mentors, triggers=(), indexes=()):
    """µs per pair over `mentors` (the first 50 a warm-up), with `triggers` and `indexes` dropped."""
    backend.begin()
    try:
        for name, table in triggers:
            backend.drop_trigger(name, table)
        for name in indexes:
            backend.rows(f"DROP INDEX {name}")
        for mentor in mentors[:50]:
            backend.pair(mentor)
        started = time.perf_counter()
        for mentor in mentors[50:]:
            backend.pair(mentor)
        return (time.perf_counter() - started) / (len(mentors) - 50) * 1e6
    finally:
        backend.rollback()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.write_costs", description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--pairs", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pg-url", help="a PostgreSQL database to DROP and recreate (default: SQLite)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-write-costs-") as workdir:
        url = (seed.prepare_postgresql(args.pg_url, args.rows) if args.pg_url
               else seed.prepare_sqlite(f"{workdir}/bench.db", args.rows))
        backend = Backend(url)
        # Seeded mentors that are neither paused nor inactive (bench/seed.py), each paused once.
        mentors = [seed.mentor_id(i) for i in range(1, args.rows + 1) if i % 10 and i % 20 != 5][:args.pairs + 50]
        triggers = backend.triggers()
        variants = {"as the schema is": {}, **{f"without trigger {name}": {"triggers": [(name, table)]}
                                               for name, table in triggers},
                    "without every trigger": {"triggers": triggers},
                    "without the indexes no write reads": {"indexes": backend.indexes()}}
        times = {name: [] for name in variants}
        for _ in range(args.rounds):
            for name, dropped in variants.items():
                times[name].append(run(backend, mentors, **dropped))
        base = statistics.median(times["as the schema is"])
        print(f"| {'PostgreSQL' if backend.postgresql else 'SQLite'} | µs per pause and resume | less than as it is |")
        print("|---|---:|---:|")
        for name, runs in times.items():
            print(f"| {name} | {statistics.median(runs):,.0f} | {base - statistics.median(runs):,.0f} |")
        backend.connection.close()
        if args.pg_url:
            seed.drop_postgresql(args.pg_url)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
