"""Does a speed-up still pay for itself? In-process A/B of the SQL built once (db/sql_cache.py): the same
requests through the Flask test client with the cache as it is, and with every statement built anew
(as plain Peewee does), in alternating rounds so that a busy machine weighs on both alike.

    python -m bench.speedups [--database-url URL] [--rounds 5] [--requests 400]

Prints microseconds per request for GET one mentor, a list page and a POST, each way, and their ratio.
"""
import argparse
import statistics
import tempfile
import time
from contextlib import contextmanager

from mentor_status_service import create_app
from mentor_status_service.db import database, migrate
from mentor_status_service.db.sql_cache import PreparedQuery

CASES = ("GET one mentor", "list page of 20", "POST a mentor")


@contextmanager
def sql_built_every_time():
    """PreparedQuery forgets what it built before each execution: Peewee builds the SQL every time."""
    original = PreparedQuery._execute

    def forgetting(self, keys, limit_one):
        self._by_database.clear()
        return original(self, keys, limit_one)

    PreparedQuery._execute = forgetting
    try:
        yield
    finally:
        PreparedQuery._execute = original


def seed(client, mentors):
    for number in range(mentors):
        client.post("/api/v1/mentor-statuses", json={"mentor_id": f"seed-{number:05d}"})


def run_round(client, requests, round_number, tag):
    timings = {}
    started = time.perf_counter()
    for number in range(requests):
        client.get(f"/api/v1/mentor-statuses/seed-{number % 1000:05d}")
    timings["GET one mentor"] = time.perf_counter() - started
    started = time.perf_counter()
    for number in range(requests):
        client.get(f"/api/v1/mentor-statuses?page={number % 50 + 1}")
    timings["list page of 20"] = time.perf_counter() - started
    started = time.perf_counter()
    for number in range(requests):
        client.post("/api/v1/mentor-statuses", json={"mentor_id": f"ab-{tag}-{round_number}-{number}"})
    timings["POST a mentor"] = time.perf_counter() - started
    return {case: seconds / requests * 1e6 for case, seconds in timings.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        url = args.database_url or f"sqlite:///{directory}/speedups.db"
        app = create_app({"DATABASE_URL": url, "TESTING": True})
        migrate()
        client = app.test_client()
        seed(client, 1000)
        cached, built = {case: [] for case in CASES}, {case: [] for case in CASES}
        for round_number in range(args.rounds):
            for case, micros in run_round(client, args.requests, round_number, "cached").items():
                cached[case].append(micros)
            with sql_built_every_time():
                for case, micros in run_round(client, args.requests, round_number, "built").items():
                    built[case].append(micros)
        database.close_all()
    print(f"SQL built once vs built every time, {url.split(':')[0]}, median of {args.rounds} rounds of "
          f"{args.requests} requests (µs per request, in-process)")
    print("| case | built once | built every time | saved |")
    print("|---|---:|---:|---:|")
    for case in CASES:
        once, every = statistics.median(cached[case]), statistics.median(built[case])
        print(f"| {case} | {once:.0f} | {every:.0f} | {1 - once / every:.0%} |")


if __name__ == "__main__":
    main()
