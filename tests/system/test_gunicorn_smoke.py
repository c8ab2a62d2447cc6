"""The real thing: `gunicorn wsgi:app` with the project's gunicorn.conf.py, over HTTP."""
import re

import pytest
import requests
from servers import Gunicorn

pytestmark = pytest.mark.slow


def test_gunicorn_migrates_once_in_the_master_then_serves_the_api(tmp_path):
    with Gunicorn(f"sqlite:///{tmp_path}/smoke.db", workers=2) as server:
        api = f"{server.base_url}/api/v1/mentor-statuses"

        created = requests.post(api, json={"mentor_id": "mentor-001", "status": "paused"}, timeout=10)
        read = requests.get(f"{api}/mentor-001", timeout=10)
        listed = requests.get(api, timeout=10)
        records = requests.get(f"{server.base_url}/api/v1/pause-records", timeout=10)

        assert created.status_code == 201 and created.headers["Location"] == "/api/v1/mentor-statuses/mentor-001"
        assert read.json()["status"] == "paused" and read.headers["X-Content-Type-Options"] == "nosniff"
        assert listed.json()["pagination"]["total"] == 1
        assert records.json()["data"][0]["is_active"] is True
        migration_lines = [line for line in server.output().splitlines() if "migrations applied" in line]
        assert len(migration_lines) == 1, server.output()
        assert re.search(rf"INFO gunicorn.error \[{server.process.pid}\] \[-\] migrations applied: 0001_initial",
                         migration_lines[0])
        assert len(server.worker_pids()) == 2
