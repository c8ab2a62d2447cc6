"""`gunicorn wsgi:app` alone, with no other process, applies a scheduled pause's start and end within
SCHEDULE_CHECK_S of each, on both backends (docs/api.md, "Pauses over time"); with SCHEDULE_IN_WEB=false
it applies none, and the Procfile's `scheduler` does (docs/operations.md)."""
import datetime as dt
import time

import pytest
import requests
from servers import Gunicorn, invariant_violations, reset_postgresql, wait_until

from harness.servers import ProcfileProcess

pytestmark = pytest.mark.slow


def now():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def iso(moment):
    return moment.isoformat() + "Z"


def test_gunicorn_alone_applies_a_scheduled_start_and_end(database_url):
    if database_url.startswith("postgresql"):
        reset_postgresql(database_url)
    with Gunicorn(database_url, workers=2, env={"SCHEDULE_CHECK_S": "1"}) as server:
        # Every worker looks for due moments from the moment it boots, whether or not it served a request.
        def every_worker_looks():
            return all(f"looking every 0.5s (process {pid})" in server.output() for pid in server.worker_pids())

        wait_until(every_worker_looks, 10, message="an applier in every worker")
        api = f"{server.base_url}/api/v1"
        requests.post(f"{api}/mentor-statuses", json={"mentor_id": "mentor-001"}, timeout=10)
        start = now() + dt.timedelta(seconds=2)
        record = requests.post(f"{api}/pause-records", json={
            "mentor_id": "mentor-001", "start_date": iso(start), "end_date": iso(start + dt.timedelta(seconds=2))},
            timeout=10).json()
        assert record["state"] == "scheduled"

        def mentor_status():
            return requests.get(f"{api}/mentor-statuses/mentor-001", timeout=10).json()["status"]

        wait_until(lambda: mentor_status() == "paused", 10, interval=0.2, message="the scheduled start")
        wait_until(lambda: mentor_status() == "active", 10, interval=0.2, message="the scheduled end")

        entries = requests.get(f"{api}/mentor-statuses/mentor-001/history", timeout=10).json()["data"]
        by_job = [(entry["resource"], entry["after"].get("state") or entry["after"]["status"])
                  for entry in reversed(entries) if entry["actor"] == "job:schedule"]
        assert by_job == [("pause_record", "active"), ("mentor_status", "paused"),
                          ("pause_record", "ended"), ("mentor_status", "active")]
        assert invariant_violations(database_url) == []


def test_with_schedule_in_web_false_workers_apply_nothing_and_the_procfile_scheduler_applies_it(database_url):
    if database_url.startswith("postgresql"):
        reset_postgresql(database_url)
    settings = {"SCHEDULE_CHECK_S": "1", "SCHEDULE_IN_WEB": "false"}
    with Gunicorn(database_url, workers=2, env=settings) as server:
        api = f"{server.base_url}/api/v1"
        requests.post(f"{api}/mentor-statuses", json={"mentor_id": "mentor-001"}, timeout=10)
        start = now() + dt.timedelta(seconds=2)
        record = requests.post(f"{api}/pause-records", json={"mentor_id": "mentor-001", "start_date": iso(start)},
                               timeout=10).json()
        assert record["state"] == "scheduled"

        def state():
            return requests.get(f"{api}/pause-records/{record['pause_record_id']}", timeout=10).json()["state"]

        # Served requests in both workers' reach, three looks' worth of time past the moment: still due.
        for _ in range(25):
            assert state() == "scheduled"
            time.sleep(0.2)
        assert "looking every" not in server.output()

        with ProcfileProcess("scheduler", {"DATABASE_URL": database_url, **settings}) as scheduler:
            wait_until(lambda: state() == "active", 15, interval=0.2, message=f"the scheduler:\n{scheduler.output()}")
        assert requests.get(f"{api}/mentor-statuses/mentor-001", timeout=10).json()["status"] == "paused"
        entries = requests.get(f"{api}/mentor-statuses/mentor-001/history", timeout=10).json()["data"]
        assert [entry["resource"] for entry in entries if entry["actor"] == "job:schedule"] == [
            "mentor_status", "pause_record"]
        assert invariant_violations(database_url) == []
