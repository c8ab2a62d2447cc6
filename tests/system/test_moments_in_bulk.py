"""Many moments due at once, applied in batches by real processes: an applier killed (SIGKILL) in
the middle leaves nothing half-applied and the rest is applied afterwards; two gunicorn instances
sharing one PostgreSQL database apply each moment exactly once (docs/api.md, "Pauses over time")."""
import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from servers import Gunicorn, fetch_rows, invariant_violations, postgresql_url_or_skip, reset_postgresql, wait_until

from mentor_status_service import create_app
from mentor_status_service.db import database, migrate
from mentor_status_service.pausing import bulk_writes, moments, totals
from mentor_status_service.pausing.models import MentorStatus, PauseRecord
from mentor_status_service.pausing.totals import TotalsMoved

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]


def now():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def fresh_tables(database_url):
    if database_url.startswith("postgresql"):
        reset_postgresql(database_url)
    app = create_app({"DATABASE_URL": database_url})
    with app.app_context():
        migrate()
        database.close()


def add_due_pauses(database_url, count, start):
    """`count` active mentors, each with a pause scheduled to begin at `start`, written as one bulk
    load (with their totals) would leave them; a `start` already past makes them due at once."""
    app = create_app({"DATABASE_URL": database_url})
    with app.app_context():
        created = now() - dt.timedelta(days=1)
        mentors = [MentorStatus(mentor_id=f"mentor-{i:05d}", base_status="active", created_at=created,
                                last_updated=created) for i in range(count)]
        pauses = [PauseRecord(mentor=mentor.mentor_id, start_date=start, created_at=created, reason="travel",
                              expected_return_date=start + dt.timedelta(days=30)) for mentor in mentors]
        for pause in pauses:
            moments.settle(pause, created, moments.Settings(), dates_set=True)
        moved = TotalsMoved(mentors_active=count, pauses_scheduled=count)
        moved.reason(None, "travel", count=count)
        with database.atomic():
            bulk_writes.insert_mentors(mentors)
            bulk_writes.insert_pauses(pauses)
            totals.add(moved)
        database.close()


def states(database_url):
    return dict(fetch_rows(database_url, "SELECT state, COUNT(*) FROM pause_record GROUP BY state"))


def entries_by_job(database_url):
    """{(mentor_id, resource, event): how many entries the applier wrote}."""
    return {(mentor_id, resource, event): count for mentor_id, resource, event, count in fetch_rows(
        database_url, "SELECT mentor_id, resource, event, COUNT(*) FROM change_entry WHERE actor = 'job:schedule' "
                      "GROUP BY mentor_id, resource, event")}


def assert_applied_exactly_once(database_url, count):
    """Every active pause's begin has exactly one entry for its record and one for its mentor, a
    pause still scheduled none; the tables hold the invariant (totals equal to a count included)."""
    active = {mentor_id for (mentor_id,) in fetch_rows(
        database_url, "SELECT mentor_id FROM pause_record WHERE state = 'active'")}
    mentors_paused = {mentor_id for (mentor_id,) in fetch_rows(
        database_url, "SELECT mentor_id FROM mentor_status m WHERE EXISTS (SELECT 1 FROM pause_record p "
                      "WHERE p.mentor_id = m.mentor_id AND p.state = 'active')")}
    assert active == mentors_paused
    expected = {(mentor_id, resource, "updated"): 1 for mentor_id in active
                for resource in ("pause_record", "mentor_status")}
    assert entries_by_job(database_url) == expected
    assert invariant_violations(database_url) == []
    return len(active)


def applier(database_url):
    """`flask --app wsgi schedule run` looking every half second."""
    env = {**os.environ, "DATABASE_URL": database_url, "SCHEDULE_CHECK_S": "1", "LOG_LEVEL": "info"}
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "schedule", "run"], cwd=REPO_ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_an_applier_killed_mid_work_leaves_nothing_half_applied(database_url):
    count = 4000
    fresh_tables(database_url)
    add_due_pauses(database_url, count, now() - dt.timedelta(minutes=1))
    process = applier(database_url)
    try:
        wait_until(lambda: states(database_url).get("active", 0) > 0, 60, interval=0.01,
                   message="the applier to apply its first batch")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    applied = assert_applied_exactly_once(database_url, count)
    assert 0 < applied < count, "killed once every moment was applied: nothing was cut short"

    process = applier(database_url)
    try:
        wait_until(lambda: states(database_url) == {"active": count}, 60, interval=0.2,
                   message="the rest to be applied after the kill")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert assert_applied_exactly_once(database_url, count) == count


def test_two_instances_apply_each_moment_exactly_once():
    database_url = postgresql_url_or_skip()
    count = 3000
    fresh_tables(database_url)
    settings = {"SCHEDULE_CHECK_S": "1"}
    with Gunicorn(database_url, workers=2, env=settings) as first, Gunicorn(database_url, workers=2,
                                                                           env=settings) as second:
        def every_applier_looks():
            return all(server.output().count("scheduled moments: looking every") >= 2 for server in (first, second))

        wait_until(every_applier_looks, 30, message="an applier in every worker of both instances")
        add_due_pauses(database_url, count, now() - dt.timedelta(minutes=1))
        wait_until(lambda: states(database_url) == {"active": count}, 60, interval=0.2,
                   message="every moment to be applied")
    assert assert_applied_exactly_once(database_url, count) == count
