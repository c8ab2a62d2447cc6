"""`flask --app wsgi db recount` repairs list totals that drifted (a restore, a bulk load, manual
SQL) while writes keep coming: the totals end exact, and no write fails for it."""
import os
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
import requests
from servers import REPO_ROOT, Gunicorn, fetch_rows, invariant_violations, postgresql_url_or_skip, reset_postgresql

pytestmark = pytest.mark.slow

MENTORS = "/api/v1/mentor-statuses"
BODIES = ({"status": "paused", "pause_reason": "travel"}, {"status": "inactive"}, {"status": "active"})


def recount(url):
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "recount"], cwd=REPO_ROOT,
                          env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True, timeout=60,
                          check=False)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_recount_during_a_write_burst_leaves_the_totals_exact_and_no_write_fails(backend, tmp_path):
    url = f"sqlite:///{tmp_path}/recount.db" if backend == "sqlite" else postgresql_url_or_skip()
    if backend == "postgresql":
        reset_postgresql(url)
    with Gunicorn(url, workers=2) as server:
        base = server.base_url
        for n in range(30):
            assert requests.post(f"{base}{MENTORS}", json={"mentor_id": f"m-{n:02d}"}, timeout=10).status_code == 201
        # Drift, as a restore of an older totals row or a bulk load by SQL would leave it.
        fetch_rows(url, "UPDATE list_totals SET mentors_active = mentors_active + 1000, pauses_ended = 7 RETURNING id")
        fetch_rows(url, "INSERT INTO reason_totals_delta (reason, records) VALUES ('travel', 50), ('gone', 3) "
                        "RETURNING id")
        assert sum(problem.startswith("reason total ") for problem in invariant_violations(url)) == 2

        outcomes, stop = Counter(), threading.Event()

        def write_forever(n):
            with requests.Session() as session:
                for turn in range(10_000):
                    if stop.is_set():
                        return
                    if turn % 5 == 4:  # deleted (its pause records too), then created again paused
                        outcomes[session.delete(f"{base}{MENTORS}/m-{n:02d}", timeout=30).status_code] += 1
                        response = session.post(f"{base}{MENTORS}", timeout=30,
                                                json={"mentor_id": f"m-{n:02d}", "status": "paused"})
                    else:
                        response = session.put(f"{base}{MENTORS}/m-{n:02d}", json=BODIES[turn % 3], timeout=30)
                    outcomes[response.status_code] += 1

        writers = [threading.Thread(target=write_forever, args=(n,)) for n in range(30)]
        for writer in writers:
            writer.start()
        time.sleep(0.5)
        results = []
        for _ in range(3):
            results.append(recount(url))
            time.sleep(0.3)
        stop.set()
        for writer in writers:
            writer.join(timeout=60)
        output = server.output()

    for result in results:
        # The command's own line, after the log lines of the app it builds (the open-access warning).
        lines = result.stdout.splitlines()
        assert result.returncode == 0 and any(line.startswith("list totals recounted: mentors_active ")
                                              for line in lines), result.stdout + result.stderr
        assert any(line.startswith("reason totals recounted: ") for line in lines), result.stdout
    assert outcomes[200] > 100 and set(outcomes) == {200, 201}, outcomes
    assert invariant_violations(url) == []
    assert "Traceback" not in output
    print(f"\nrecount {backend}: 3 recounts during {sum(outcomes.values())} writes; outcomes {dict(outcomes)}")
