"""`python -m bench --moments`: 10,000 scheduled pauses whose start falls due at one moment, applied
by the running service's own appliers (every gunicorn worker, SCHEDULE_CHECK_S=1) or, with `--applier
process`, by one `scheduler` process of the Procfile beside workers that apply none, timed from the
moment they fall due until the last one is active, with single PUTs to other mentors sent meanwhile
(their p99 against that without moments to apply). The pauses are added with direct SQL to a seeded
database while the service runs, as a bulk load would leave them; the check afterwards counts each
pause's change entries by `job:schedule` (exactly once) and compares the list totals with a count."""
import datetime as dt
import re
import sqlite3
import time

import psycopg2

from harness.servers import ProcfileProcess, wait_until

from .imports import SingleWrites

MOMENT_ROWS = 10_000
TARGET_S = 10.0
LEAD_S = 3  # the moments fall due this long after they are written
CHECK_S = "1"
ACTOR = "job:schedule"
APPLIERS = ("web", "process")


class appliers:
    """With `applier` process, the Procfile's `scheduler` on `database_url` while `with` lasts, once it
    looks for due moments (SCHEDULE_CHECK_S and SCHEDULE_IN_WEB come from this environment); with web,
    nothing: the service's workers apply."""

    def __init__(self, applier, database_url):
        self.process = ProcfileProcess("scheduler", {"DATABASE_URL": database_url}) if applier == "process" else None

    def __enter__(self):
        if self.process:
            self.process.start()
            wait_until(lambda: "looking every" in self.process.output() or self.process.process.poll() is not None,
                       30, message="the scheduler to start")
            assert self.process.process.poll() is None, self.process.output()
        return self

    def applied(self):
        """How many moments the scheduler logged it applied (None: no scheduler)."""
        if self.process:
            return sum(int(count) for count in re.findall(r"scheduled moments: (\d+) applied", self.process.output()))
        return None

    def __exit__(self, *exc_info):
        if self.process:
            self.process.__exit__(*exc_info)


def _connect(url):
    if url.startswith("sqlite:///"):
        connection = sqlite3.connect(url[len("sqlite:///"):], timeout=30, isolation_level=None)
        return connection, "?", "strftime('%Y-%m-%d %H:%M:%S', 'now')"
    connection = psycopg2.connect(url)
    connection.autocommit = True
    return connection, "%s", "date_trunc('second', statement_timestamp() AT TIME ZONE 'UTC')"


def _one(connection, sql, params=None):
    cursor = connection.cursor()
    cursor.execute(sql, params) if params else cursor.execute(sql)
    return cursor.fetchone()


def add_scheduled_pauses(url, rows):
    """`rows` new active mentors `moment-NNNNNN`, each with a pause that begins LEAD_S seconds from
    the database's now; returns that moment (naive UTC) and the local time.monotonic() it falls due."""
    connection, mark, now_sql = _connect(url)
    try:
        now = _one(connection, f"SELECT {now_sql}")[0]
        now = dt.datetime.fromisoformat(now) if isinstance(now, str) else now
        due, due_at = now + dt.timedelta(seconds=LEAD_S), time.monotonic() + LEAD_S
        back = due + dt.timedelta(days=30)
        cursor = connection.cursor()
        cursor.execute("BEGIN")
        cursor.executemany(f"INSERT INTO mentor_status (mentor_id, base_status, metadata, created_at, "
                           f"last_updated) VALUES ({mark}, 'active', '{{}}', {mark}, {mark})",
                           [(f"moment-{i:06d}", now, now) for i in range(rows)])
        cursor.executemany(f"INSERT INTO pause_record (mentor_id, start_date, expected_return_date, reason, "
                           f"created_at, state, next_moment_at) VALUES ({mark}, {mark}, {mark}, 'travel', {mark}, "
                           f"'scheduled', {mark})", [(f"moment-{i:06d}", due, back, now, due) for i in range(rows)])
        cursor.execute("INSERT INTO list_totals_delta (mentors_active, mentors_inactive, pauses_active, pauses_ended, "
                       f"pauses_scheduled) VALUES ({mark}, 0, 0, 0, {mark})", (rows, rows))
        cursor.execute(f"INSERT INTO reason_totals_delta (reason, records) VALUES ('travel', {mark})", (rows,))
        cursor.execute("COMMIT")
    finally:
        connection.close()
    return due, due_at


def check(url, rows):
    """What the moments left: pauses still scheduled, pauses whose entries by the applier are not
    exactly one pause_record and one mentor_status `updated`, and whether the list totals agree with a count."""
    connection, _, _ = _connect(url)
    try:
        scheduled = _one(connection, "SELECT COUNT(*) FROM pause_record WHERE mentor_id LIKE 'moment-%' "
                                     "AND state = 'scheduled'")[0]
        not_once = _one(connection, f"""SELECT COUNT(*) FROM mentor_status m WHERE m.mentor_id LIKE 'moment-%' AND
            (SELECT COUNT(*) FROM change_entry e WHERE e.mentor_id = m.mentor_id AND e.actor = '{ACTOR}'
             AND e.event = 'updated' AND e.resource = 'pause_record') <> 1 OR m.mentor_id LIKE 'moment-%' AND
            (SELECT COUNT(*) FROM change_entry e WHERE e.mentor_id = m.mentor_id AND e.actor = '{ACTOR}'
             AND e.event = 'updated' AND e.resource = 'mentor_status') <> 1""")[0]
        kept = _one(connection, "SELECT t.pauses_active + COALESCE((SELECT SUM(pauses_active) FROM list_totals_delta), "
                                "0), t.pauses_scheduled + COALESCE((SELECT SUM(pauses_scheduled) FROM "
                                "list_totals_delta), 0) FROM list_totals t")
        counted = _one(connection, "SELECT (SELECT COUNT(*) FROM pause_record WHERE state = 'active'), "
                                   "(SELECT COUNT(*) FROM pause_record WHERE state = 'scheduled')")
    finally:
        connection.close()
    return {"still_scheduled": scheduled, "not_exactly_once": not_once, "totals_exact": tuple(kept) == tuple(counted)}


def _p99(seconds):
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else 0.0


def run_moments(backend, service, database_url, log, rows=MOMENT_ROWS, appliers=None):
    """Add `rows` pauses due together to the seeded database `service` serves; time their application
    (by the `appliers` given, else the service's workers)."""
    seeded = [f"mentor-{i:07d}" for i in range(2, 200, 10)]
    with SingleWrites(service.url, seeded) as quiet:
        time.sleep(3)
    connection, _, _ = _connect(database_url)
    due, due_at = add_scheduled_pauses(database_url, rows)
    time.sleep(max(0.0, due_at - time.monotonic()))
    with SingleWrites(service.url, seeded) as during:
        left, applied_at = rows, None
        while time.monotonic() < due_at + 120:
            time.sleep(0.1)
            left = _one(connection, "SELECT COUNT(*) FROM pause_record WHERE mentor_id LIKE 'moment-%' "
                                    "AND state = 'scheduled'")[0]
            if left == 0:
                applied_at = time.monotonic()
                break
        during_seconds = list(during.seconds)
    connection.close()
    applying = during_seconds
    result = {"backend": backend, "applier": "process" if appliers and appliers.process else "web", "rows": rows,
              "seconds": None if applied_at is None else applied_at - due_at,
              "write_p99_s": _p99(applying), "write_max_s": max(applying, default=0.0), "writes": len(applying),
              "write_p99_quiet_s": _p99(quiet.seconds), "write_failures": during.failures, **check(database_url, rows),
              "applied_by_process": appliers and appliers.applied()}
    log(f"{backend} moments ({result['applier']}): {rows:,} due together, all applied "
        f"{result['seconds'] and round(result['seconds'], 2)} s after; single PUTs meanwhile: {len(applying)}, "
        f"p99 {result['write_p99_s'] * 1000:.0f} ms (without "
        f"{result['write_p99_quiet_s'] * 1000:.0f} ms), {during.failures} failed; {result}")
    return result


def moments_table(results):
    lines = ["| backend | applier | moments due together | seconds until all applied | single PUT p99 meanwhile, ms "
             "(without moments) | slowest PUT, ms | not exactly once | totals exact | on target |",
             "|---|---|---:|---:|---:|---:|---:|:-:|:-:|"]
    for result in results:
        seconds = result["seconds"]
        met = (seconds is not None and seconds < TARGET_S and result["write_failures"] == 0
               and result["not_exactly_once"] == 0 and result["totals_exact"])
        lines.append(f"| {result['backend']} | {result['applier']} | {result['rows']:,} | "
                     f"{'not within 120' if seconds is None else f'{seconds:.2f}'} | "
                     f"{result['write_p99_s'] * 1000:.0f} ({result['write_p99_quiet_s'] * 1000:.0f}) | "
                     f"{result['write_max_s'] * 1000:.0f} | {result['not_exactly_once']} | "
                     f"{'yes' if result['totals_exact'] else 'NO'} | {'yes' if met else 'NO'} |")
    return "\n".join(lines)
