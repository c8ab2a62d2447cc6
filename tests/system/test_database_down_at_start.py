"""Starting without a database: gunicorn binds and answers 503 until PostgreSQL appears, then the
same processes bring the schema up to date and serve. And no start at all where data would be lost:
on a platform with an ephemeral disk and no DATABASE_URL."""
import os
import subprocess
import sys
import time
from urllib.parse import urlparse

import pytest
import requests
from servers import REPO_ROOT, Gunicorn, fetch_rows, invariant_violations, postgresql_behind_proxy, wait_until

from mentor_status_service.db.migrate import MIGRATIONS_DIR

pytestmark = pytest.mark.slow

MENTORS = "/api/v1/mentor-statuses"
PASSWORD = "never-logged-7f3a"


def test_gunicorn_started_before_the_database_serves_503_then_migrates_and_serves_without_a_restart():
    proxy, proxied_url, direct_url = postgresql_behind_proxy()  # its port: nothing listens yet
    parsed = urlparse(proxied_url)
    # A password in the URL (trust authentication ignores it) that must never reach the logs.
    service_url = parsed._replace(netloc=f"{parsed.username or 'postgres'}:{PASSWORD}@{parsed.hostname}:"
                                         f"{parsed.port}").geturl()
    with Gunicorn(service_url, workers=2) as server:
        base = server.base_url
        master, workers = server.process.pid, sorted(server.worker_pids())

        assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
        ready = requests.get(f"{base}/readyz", timeout=5)
        assert ready.status_code == 503 and ready.json()["code"] == 503
        for method, path in (("GET", MENTORS), ("GET", f"{MENTORS}/mentor-001"), ("POST", MENTORS)):
            response = requests.request(method, base + path, json={"mentor_id": "mentor-001"}, timeout=10)
            assert response.status_code == 503 and response.headers["Content-Type"] == "application/json"
            assert response.headers["Retry-After"] and response.json()["message"].startswith("The database is")
        assert fetch_rows(direct_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'") == []

        proxy.start()
        appeared = time.monotonic()
        try:
            wait_until(lambda: requests.get(f"{base}/readyz", timeout=5).status_code == 200, 20, interval=0.1,
                       message="/readyz once the database appeared")
            recovered = time.monotonic() - appeared
            created = requests.post(base + MENTORS, json={"mentor_id": "mentor-001", "status": "paused"}, timeout=10)
            listed = [requests.get(base + MENTORS, timeout=10) for _ in range(10)]
            output = server.output()
        finally:
            proxy.stop()

        assert created.status_code == 201
        assert all(response.status_code == 200 and response.json()["pagination"]["total"] == 1 for response in listed)
        assert server.process.poll() is None and server.process.pid == master
        assert sorted(server.worker_pids()) == workers  # the same processes, none restarted
    print(f"\nserving {recovered:.2f} s after the database appeared")

    assert [name for (name,) in fetch_rows(direct_url, "SELECT name FROM schema_migration ORDER BY name")] == [
        path.stem for path in sorted(MIGRATIONS_DIR.glob("0*.py"))]
    assert invariant_violations(direct_url) == []
    assert "database not reachable at start" in output and "Traceback" not in output
    assert f"database: postgresql://{parsed.hostname}:{parsed.port}{parsed.path}" in output
    assert PASSWORD not in output


def refusal(command):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env["DYNO"] = "web.1"
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("command", [
    [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
    [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
], ids=["gunicorn", "flask-cli"])
def test_on_a_platform_dyno_without_database_url_nothing_starts_and_the_message_says_why(command):
    sqlite_files = set(REPO_ROOT.glob("mentor_status.db*"))

    result = refusal(command)

    assert result.returncode != 0
    assert "DATABASE_URL is not set on a platform with an ephemeral disk" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert set(REPO_ROOT.glob("mentor_status.db*")) == sqlite_files  # no SQLite file was written
