"""The feed's guarantee under real concurrency: writers in several gunicorn workers and instances
commit while a consumer follows the feed with small pages. The consumer must end up with exactly
the entries the table holds, in order, none twice, none missing, and each resource's entries must
chain (each one's `before` is the previous one's `after`), which only commit order gives."""
import random
import threading
import time
from collections import Counter, defaultdict

import pytest
import requests
from feed_replay import listed_state, replayed_state
from servers import Gunicorn, fetch_rows, postgresql_url_or_skip, reset_postgresql

from mentor_status_service.db import open_database

pytestmark = pytest.mark.slow

WRITERS = 8
SECONDS = 10
SHARED_MENTORS = [f"shared-{n}" for n in range(3)]
MENTORS = "/api/v1/mentor-statuses"
RECORDS = "/api/v1/pause-records"
ALLOWED = {200, 201, 404, 409}


def writer(base_url, own_mentor, seed, stop, outcomes):
    """Random writes to the shared mentors and to one of its own, until `stop` is set."""
    rng = random.Random(seed)
    session = requests.Session()
    step = 0
    while not stop.is_set():
        step += 1
        mentor = rng.choice(SHARED_MENTORS + [own_mentor])
        choice = rng.randrange(5)
        if choice == 0:
            response = session.put(f"{base_url}{MENTORS}/{mentor}", json={"status": "paused", "pause_reason": "travel"})
        elif choice == 1:
            response = session.put(f"{base_url}{MENTORS}/{mentor}", json={"status": rng.choice(["active", "inactive"])})
        elif choice == 2:
            response = session.put(f"{base_url}{MENTORS}/{mentor}", json={"metadata": {"step": step, "seed": seed}})
        elif choice == 3:
            response = session.post(f"{base_url}{RECORDS}", json={"mentor_id": mentor, "reason": "illness"})
        else:
            records = session.get(f"{base_url}{RECORDS}", params={"mentor_id": mentor, "limit": 100}).json()["data"]
            if not records:
                continue
            record = rng.choice(records)["pause_record_id"]
            if rng.random() < 0.3:
                response = session.delete(f"{base_url}{RECORDS}/{record}")
            else:
                response = session.put(f"{base_url}{RECORDS}/{record}", json={"is_active": rng.random() < 0.5})
        outcomes[response.status_code] += 1


def consume(base_url, writers_finished, entries):
    """Follow the feed with small pages until every writer has finished and it has caught up."""
    session = requests.Session()
    after = 0
    while True:
        writers_done = writers_finished.is_set()
        body = session.get(f"{base_url}/api/v1/changes", params={"after": after, "limit": 7}).json()
        entries += body["data"]
        after = body["next_after"]
        if not body["data"]:
            if writers_done:
                return
            time.sleep(0.01)


def run_against(base_urls, database_url, meanwhile=None, allowed=ALLOWED):
    """Writers on `base_urls` and a consumer of the feed for SECONDS, with `meanwhile` (if any)
    running in a thread of its own, then check what the consumer received."""
    for mentor in SHARED_MENTORS + [f"own-{n}" for n in range(WRITERS)]:
        assert requests.post(f"{base_urls[0]}{MENTORS}", json={"mentor_id": mentor}).status_code == 201
    stop, writers_finished, outcomes, seen = threading.Event(), threading.Event(), Counter(), []
    threads = [threading.Thread(target=writer, args=(base_urls[n % len(base_urls)], f"own-{n}", n, stop, outcomes))
               for n in range(WRITERS)]
    consumer = threading.Thread(target=consume, args=(base_urls[-1], writers_finished, seen))
    if meanwhile is not None:
        threads.append(threading.Thread(target=meanwhile))
    for thread in (*threads, consumer):
        thread.start()
    time.sleep(SECONDS)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    writers_finished.set()
    consumer.join(timeout=120)

    assert set(outcomes) <= allowed, outcomes
    assert sum(outcomes.values()) > 200, outcomes
    stored = [change_id for (change_id,) in fetch_rows(database_url, "SELECT change_id FROM change_entry "
                                                                     "ORDER BY change_id")]
    received = [entry["change_id"] for entry in seen]
    assert received == stored, "the consumer's entries differ from the table's"
    assert len(set(received)) == len(received)
    by_resource = defaultdict(list)
    for entry in seen:
        by_resource[(entry["resource"], entry["id"])].append(entry)
    for key, chain in by_resource.items():
        for earlier, later in zip(chain, chain[1:]):
            assert later["before"] == earlier["after"], f"{key}: entry {later['change_id']} does not follow " \
                                                        f"{earlier['change_id']}"

    def get(path, params):
        return requests.get(base_urls[0] + path, params=params, timeout=30).json()

    assert replayed_state(seen) == listed_state(get)
    print(f"\n{sum(outcomes.values())} writes ({dict(sorted(outcomes.items()))}) from {WRITERS} writers over "
          f"{len(base_urls)} server(s); the consumer received all {len(seen)} entries once, in order")


def test_feed_is_exactly_once_with_two_instances_on_postgresql():
    url = postgresql_url_or_skip()
    reset_postgresql(url)
    with Gunicorn(url, workers=2) as first, Gunicorn(url, workers=2) as second:
        run_against([first.base_url, second.base_url], url)


def test_feed_is_exactly_once_while_a_session_holds_a_mentor_locked_for_seconds_on_postgresql():
    """Writes to the locked mentor wait (and give up with a 503 after the lock timeout); the feed
    goes on delivering the others' entries, and then everything exactly once, in commit order."""
    url = postgresql_url_or_skip()
    reset_postgresql(url)

    def hold_a_shared_mentor_locked():
        db = open_database(url)
        try:
            for _ in range(2):
                time.sleep(1)
                with db.atomic():
                    assert db.execute_sql("SELECT mentor_id FROM mentor_status WHERE mentor_id = %s FOR UPDATE",
                                          (SHARED_MENTORS[0],)).fetchone()
                    time.sleep(3)
        finally:
            db.close()

    with Gunicorn(url, workers=2) as first, Gunicorn(url, workers=2) as second:
        run_against([first.base_url, second.base_url], url, meanwhile=hold_a_shared_mentor_locked,
                    allowed=ALLOWED | {503})


def test_feed_is_exactly_once_with_four_workers_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path}/feed.db"
    with Gunicorn(url, workers=4) as server:
        run_against([server.base_url], url)
