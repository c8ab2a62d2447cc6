"""What one request costs in the service's own code, without a server or a network:
`python -m bench.inprocess [--rows 10000] [--requests 2000] [--profile list_page] [--pg-url URL]`.

Seeds a database (SQLite in a temporary file unless --pg-url), then times each case through Flask's
test client, one request at a time: GET one mentor, a list page (one of the first 50, as
bench/lua/list_page.lua asks), the same page by cursor, and a POST. Prints µs per request; with
--profile CASE, the cProfile functions that take the most time over that case's requests.
"""
import argparse
import cProfile
import os
import pstats
import random
import sys
import tempfile
import time

from . import seed


def cases(rows, tag):
    pages = max(1, min(50, rows // 20))
    counter = iter(range(10**9))
    return {
        "get_mentor": lambda client: client.get(f"/api/v1/mentor-statuses/{seed.mentor_id(random.randint(1, rows))}"),
        "list_page": lambda client: client.get(f"/api/v1/mentor-statuses?page={random.randint(1, pages)}&limit=20"),
        "list_sorted": lambda client: client.get("/api/v1/mentor-statuses?sort=-last_updated&status=active"),
        "post_mentor": lambda client: client.post("/api/v1/mentor-statuses", json={
            "mentor_id": f"inproc-{tag}-{next(counter)}", "status": "active",
            "metadata": {"initiated_by": "coordinator-007", "notes": "created by bench"}}),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--profile", help="a case to run under cProfile")
    parser.add_argument("--pg-url", help="a PostgreSQL database to DROP and recreate (default: SQLite)")
    args = parser.parse_args(argv)
    from mentor_status_service import create_app

    with tempfile.TemporaryDirectory(prefix="bench-inprocess-") as workdir:
        url = (seed.prepare_postgresql(args.pg_url, args.rows) if args.pg_url
               else seed.prepare_sqlite(f"{workdir}/bench.db", args.rows))
        # The access lines go to stdout, here to /dev/null: written, as under gunicorn, but not shown.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        app = create_app({"DATABASE_URL": url})
        client = app.test_client()
        for name, request in cases(args.rows, int(time.time())).items():
            for _ in range(200):  # warm-up: imports, prepared statements, a connection
                assert request(client).status_code in (200, 201)
            profiler = cProfile.Profile() if name == args.profile else None
            if profiler:
                profiler.enable()
            # CPU time of this process (SQLite runs in it), the best of five runs: on a shared machine, wall
            # time mostly measures the wait for a core.
            best = float("inf")
            for _ in range(5):
                started = time.process_time()
                for _ in range(args.requests // 5):
                    request(client)
                best = min(best, (time.process_time() - started) / (args.requests // 5))
            if profiler:
                profiler.disable()
            print(f"{name}: {best * 1e6:.0f} µs of CPU per request (best of 5 runs of {args.requests // 5})",
                  file=sys.stderr)
            if profiler:
                pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(30)
                pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(60)
        if args.pg_url:
            seed.drop_postgresql(args.pg_url)


if __name__ == "__main__":
    main()
