"""What one request costs in the service's own code, without a server or a network:
`python -m bench.inprocess [--rows 10000] [--requests 2000] [--cases get_mentor,list_page]
[--with RATE_LIMIT=100000000/minute] [--profile list_page] [--pg-url URL]`.

Seeds a database (SQLite in a temporary file unless --pg-url), then times each case through Flask's
test client, one request at a time: GET one mentor, a list page (one of the first 50, as
bench/lua/list_page.lua asks), the same page by cursor, a POST, and a pause and a resume in turn.
Prints µs per request; with --with SETTING=VALUE, each case also on a second app given those
settings (a feature switched on), the two sent one request each in turn in this one process
(medians, not the best run), and the difference; with --profile CASE, the cProfile functions that
take the most time over that case's requests (of both apps, with --with).
"""
import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import tempfile
import time

from . import seed

RUNS = 5


def cases(rows, tag):
    pages = max(1, min(50, rows // 20))
    counter = iter(range(10**9))
    # As bench/lua/pause_resume.lua: seeded mentors neither paused (i % 10 == 0) nor inactive
    # (i % 20 == 5), each paused by one request and resumed by the next.
    pool = [seed.mentor_id(i) for i in range(1, rows + 1) if i % 10 and i % 20 != 5]
    turns = iter(range(10**9))
    return {
        "get_mentor": lambda client: client.get(f"/api/v1/mentor-statuses/{seed.mentor_id(random.randint(1, rows))}"),
        "list_page": lambda client: client.get(f"/api/v1/mentor-statuses?page={random.randint(1, pages)}&limit=20"),
        "list_sorted": lambda client: client.get("/api/v1/mentor-statuses?sort=-last_updated&status=active"),
        "post_mentor": lambda client: client.post("/api/v1/mentor-statuses", json={
            "mentor_id": f"inproc-{tag}-{next(counter)}", "status": "active",
            "metadata": {"initiated_by": "coordinator-007", "notes": "created by bench"}}),
        "pause_resume": lambda client: pause_or_resume(client, pool, next(turns)),
    }


def pause_or_resume(client, pool, turn):
    mentor_path = f"/api/v1/mentor-statuses/{pool[(turn // 2) % len(pool)]}"
    if turn % 2:
        return client.put(mentor_path, json={"status": "active"})
    return client.put(mentor_path, json={"status": "paused", "expected_return_date": "2027-01-01T00:00:00Z",
                                         "pause_reason": "personal_leave"})


def settings(raw):
    name, sep, value = raw.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected SETTING=VALUE, got {raw!r}")
    return name, value


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--cases", help="comma-separated subset of the cases (default: all)")
    parser.add_argument("--with", dest="beside", type=settings, action="append", metavar="SETTING=VALUE",
                        help="also time each case on an app with this setting (repeatable), alternating")
    parser.add_argument("--profile", help="a case to run under cProfile")
    parser.add_argument("--pg-url", help="a PostgreSQL database to DROP and recreate (default: SQLite)")
    args = parser.parse_args(argv)
    from mentor_status_service import create_app

    with tempfile.TemporaryDirectory(prefix="bench-inprocess-") as workdir:
        url = (seed.prepare_postgresql(args.pg_url, args.rows) if args.pg_url
               else seed.prepare_sqlite(f"{workdir}/bench.db", args.rows))
        # The access lines go to stdout, here to /dev/null: written, as under gunicorn, but not shown.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        clients = [create_app({"DATABASE_URL": url}).test_client()]
        if args.beside:
            clients.append(create_app({"DATABASE_URL": url, **dict(args.beside)}).test_client())
        selected = cases(args.rows, int(time.time()))
        for name in (args.cases.split(",") if args.cases else selected):
            best = time_case(selected[name], clients, args.requests // RUNS, profile=name == args.profile)
            line = f"{name}: {best[0] * 1e6:.0f} µs of CPU per request"
            if args.beside:
                line += (f"; with {' '.join(f'{k}={v}' for k, v in args.beside)}: {best[1] * 1e6:.0f} µs "
                         f"({(best[1] - best[0]) * 1e6:+.0f})")
            how = (f"medians of {args.requests} requests to each app in turn" if args.beside
                   else f"best of {RUNS} runs of {args.requests // RUNS}")
            print(f"{line} ({how})", file=sys.stderr)
        if args.pg_url:
            seed.drop_postgresql(args.pg_url)


def time_case(request, clients, per_run, profile=False):
    """CPU time per request of each client: alone, the best of RUNS runs; beside another, the median of
    RUNS * per_run requests sent to the clients in turn, one each, so that both see the same machine."""
    for client in clients:
        for _ in range(200):  # warm-up: imports, prepared statements, a connection
            assert request(client).status_code in (200, 201)
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    # CPU time of this process (SQLite runs in it): on a shared machine, wall time mostly measures the
    # wait for a core.
    best = best_of_runs(request, clients[0], per_run) if len(clients) == 1 else in_turn(request, clients, per_run)
    if profiler:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(30)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(60)
    return best


def best_of_runs(request, client, per_run):
    best = float("inf")
    for _ in range(RUNS):
        started = time.process_time()
        for _ in range(per_run):
            request(client)
        best = min(best, (time.process_time() - started) / per_run)
    return [best]


def in_turn(request, clients, per_run):
    spent = [[] for _ in clients]
    for _ in range(RUNS * per_run):
        for position, client in enumerate(clients):
            started = time.process_time()
            request(client)
            spent[position].append(time.process_time() - started)
    return [statistics.median(times) for times in spent]


if __name__ == "__main__":
    main()
