"""SQLite's writers take turns fairly: in one process in the order they asked, and under 32
concurrent writers over real worker processes none fails for waiting."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from servers import Gunicorn, invariant_violations

from mentor_status_service.db.turns import FairTurns

WRITERS = 32


def test_waiters_get_the_turn_in_the_order_they_asked():
    turns, order = FairTurns(), []
    assert turns.acquire(timeout=1)

    def wait_for_turn(number):
        assert turns.acquire(timeout=10)
        order.append(number)
        turns.release()

    waiters = []
    for number in range(8):
        waiters.append(threading.Thread(target=wait_for_turn, args=(number,)))
        waiters[-1].start()
        time.sleep(0.02)  # each asks after the one before
    turns.release()
    for waiter in waiters:
        waiter.join(10)

    assert order == list(range(8))


def test_a_waiter_whose_wait_runs_out_gives_up_and_the_next_still_gets_the_turn():
    turns = FairTurns()
    assert turns.acquire(timeout=1)
    assert turns.acquire(timeout=0.05) is False
    later = []
    waiter = threading.Thread(target=lambda: later.append(turns.acquire(timeout=5)))
    waiter.start()
    time.sleep(0.05)
    turns.release()
    waiter.join(5)
    assert later == [True]
    turns.release()
    assert turns.acquire(timeout=0.01)


@pytest.mark.slow
def test_32_concurrent_writers_on_sqlite_over_two_workers_all_succeed(tmp_path):
    url = f"sqlite:///{tmp_path}/turns.db"
    with Gunicorn(url, workers=2) as server:
        mentors = f"{server.base_url}/api/v1/mentor-statuses"
        for number in range(WRITERS):
            assert requests.post(mentors, json={"mentor_id": f"writer-{number}"}, timeout=30).status_code == 201

        def write(number):
            session, codes = requests.Session(), []
            for step in range(15):
                body = {"status": "paused"} if step % 2 == 0 else {"status": "active"}
                codes.append(session.put(f"{mentors}/writer-{number}", json=body, timeout=60).status_code)
            return codes

        with ThreadPoolExecutor(WRITERS) as pool:
            codes = [code for result in pool.map(write, range(WRITERS)) for code in result]

    assert codes == [200] * (WRITERS * 15)
    assert invariant_violations(url) == []
