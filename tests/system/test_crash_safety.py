"""Kill gunicorn (master and every worker, SIGKILL) in the middle of a stream of writes, restart
it, and check that every write answered 2xx is there, that the tables hold the consistency
invariant (docs/api.md) and, on SQLite, that the file passes `PRAGMA integrity_check`. A few
cycles on one database per backend.
"""
import threading
import time
from collections import Counter

import pytest
import requests
from servers import Gunicorn, consistency_violations, fresh_postgresql_url, sqlite_integrity, wait_until

pytestmark = pytest.mark.slow

CYCLES = 3
WRITERS = 8
WRITES_BEFORE_KILL = 100
MENTORS = "/api/v1/mentor-statuses"
RECORDS = "/api/v1/pause-records"
VERIFIED = Counter()


class Writer(threading.Thread):
    """Writes to mentors of its own, one request at a time, and remembers what each 2xx promised.

    A request that got no answer (the server died under it) may or may not have happened: its
    mentor is then only checked for what both outcomes share.
    """

    def __init__(self, base_url, prefix, acknowledged):
        super().__init__(daemon=True)
        self.base_url, self.prefix, self.acknowledged = base_url, prefix, acknowledged
        self.expected_status = {}  # mentor_id -> status promised by the last 2xx
        self.records = []  # pause_record_id answered 201, with the mentor it belongs to
        self.uncertain = set()  # mentors with a write that got no answer
        self.server_errors = []
        self.refused = []  # answers other than 2xx; none is expected

    def send(self, method, path, body):
        try:
            response = requests.request(method, self.base_url + path, json=body, timeout=30)
        except requests.RequestException:
            return None
        if response.status_code >= 500:
            self.server_errors.append((method, path, response.status_code, response.text[:300]))
        return response

    def run(self):
        for n in range(10_000):
            mentor_id = f"{self.prefix}-{n}"
            steps = [
                ("POST", MENTORS, {"mentor_id": mentor_id, "status": "paused" if n % 3 == 0 else "active",
                                   "metadata": {"n": n}}),
                ("PUT", f"{MENTORS}/{mentor_id}", {"status": "active" if n % 3 == 0 else "paused",
                                                   "pause_reason": None}),
                ("POST", RECORDS, {"mentor_id": mentor_id, "start_date": "2026-01-01", "end_date": "2026-01-02"}),
                ("PUT", f"{MENTORS}/{mentor_id}", {"status": "inactive"}),
            ]
            for step, (method, path, body) in enumerate(steps):
                response = self.send(method, path, body)
                if response is None:
                    self.uncertain.add(mentor_id)
                    return  # the server is gone: this writer's work is done
                if not 200 <= response.status_code < 300:
                    self.refused.append((method, path, response.status_code, response.text[:300]))
                    return
                self.acknowledged.increment()
                if method == "POST" and path == RECORDS:
                    self.records.append((response.json()["pause_record_id"], mentor_id))
                else:
                    self.expected_status[mentor_id] = response.json()["status"]
                    if response.json()["status"] != body["status"]:
                        self.server_errors.append((method, path, "answered", response.json()))


class AcknowledgedCounter:
    def __init__(self):
        self.value, self._lock = 0, threading.Lock()

    def increment(self):
        with self._lock:
            self.value += 1


def verify(base_url, writers, database_url):
    """Every acknowledged write is there; the invariant holds."""
    for writer in writers:
        assert not writer.server_errors, writer.server_errors
        for mentor_id, status in writer.expected_status.items():
            response = requests.get(f"{base_url}{MENTORS}/{mentor_id}", timeout=30)
            assert response.status_code == 200, (mentor_id, response.text)
            if mentor_id not in writer.uncertain:
                assert response.json()["status"] == status, (mentor_id, response.json())
            VERIFIED["mentors"] += 1
        for record_id, mentor_id in writer.records:
            response = requests.get(f"{base_url}{RECORDS}/{record_id}", timeout=30)
            assert response.status_code == 200 and response.json()["mentor_id"] == mentor_id, record_id
            VERIFIED["records"] += 1
    assert consistency_violations(database_url, base_url) == []


def crash_cycles(database_url):
    port = None
    for cycle in range(CYCLES):
        server = Gunicorn(database_url, workers=4, port=port)
        port = server.port  # restart where clients already point
        try:
            server.start()
            acknowledged = AcknowledgedCounter()
            writers = [Writer(server.base_url, f"crash-{cycle}-{n}", acknowledged) for n in range(WRITERS)]
            for writer in writers:
                writer.start()
            # Kill once writes are flowing, so that some are in flight at that moment.
            wait_until(lambda: acknowledged.value >= WRITES_BEFORE_KILL or not any(map(Writer.is_alive, writers)),
                       120, interval=0.01, message=f"{WRITES_BEFORE_KILL} acknowledged writes")
            assert [writer.refused for writer in writers if writer.refused] == []
            server.kill()
            for writer in writers:
                writer.join(timeout=60)
                assert not writer.is_alive()
            VERIFIED["cycles"] += 1
            VERIFIED["acknowledged"] += acknowledged.value
            VERIFIED["in flight at the kill"] += sum(len(writer.uncertain) for writer in writers)
        finally:
            server.close()

        if database_url.startswith("sqlite"):
            assert sqlite_integrity(database_url) == "ok"
        # Restart on the same database: it must come up and hold every acknowledged write.
        with Gunicorn(database_url, workers=2, port=port) as restarted:
            verify(restarted.base_url, writers, database_url)
            assert requests.get(f"{restarted.base_url}/readyz", timeout=30).status_code == 200


def test_sigkill_mid_stream_loses_no_acknowledged_write_on_sqlite(tmp_path):
    database_url = f"sqlite:///{tmp_path}/crash.db"

    crash_cycles(database_url)

    assert sqlite_integrity(database_url) == "ok"


def test_sigkill_mid_stream_loses_no_acknowledged_write_on_postgresql():
    database_url = fresh_postgresql_url()

    crash_cycles(database_url)


@pytest.fixture(scope="module", autouse=True)
def report_writes_verified():
    started = time.monotonic()
    yield
    print(f"\ncrash safety: {dict(VERIFIED)} in {time.monotonic() - started:.0f}s")
