"""Idempotency-Key across worker processes: a burst of the same keyed write at a real gunicorn with
two worker processes makes exactly one write, on both backends."""
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests
from servers import Gunicorn

from mentor_status_service.pausing.models import PauseRecord

KEY = {"Idempotency-Key": "retry-7f3c9a"}


def test_concurrent_duplicates_across_worker_processes_write_once(app, database_url):
    """Forty threads send one keyed POST of a past pause (which, without a key, each would create)
    at once, to a gunicorn with two worker processes: one pause is created, and every answer is
    that 201 again or a 409 asking to retry."""
    with Gunicorn(database_url, workers=2) as server:
        assert requests.post(f"{server.base_url}/api/v1/mentor-statuses", json={"mentor_id": "mentor-001"},
                             timeout=30).status_code == 201
        body = {"mentor_id": "mentor-001", "start_date": "2025-01-01", "end_date": "2025-02-01"}
        barrier = threading.Barrier(40, timeout=60)

        def send(_):
            barrier.wait()
            return requests.post(f"{server.base_url}/api/v1/pause-records", json=body, headers=KEY, timeout=60)

        with ThreadPoolExecutor(max_workers=40) as pool:
            responses = list(pool.map(send, range(40)))
        retried = requests.post(f"{server.base_url}/api/v1/pause-records", json=body, headers=KEY, timeout=60)

    codes = Counter(response.status_code for response in responses)
    assert set(codes) <= {201, 409}, codes
    created = {response.json()["pause_record_id"] for response in responses if response.status_code == 201}
    assert len(created) == 1
    assert all(response.headers["Retry-After"] == "1" for response in responses if response.status_code == 409)
    assert retried.status_code == 201 and retried.json()["pause_record_id"] in created
    assert PauseRecord.select().count() == 1
