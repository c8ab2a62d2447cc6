"""`python -m bench`: seed each backend, start the service and the ceiling under gunicorn.conf.py,
and drive both with wrk, alternating, so every ratio compares measurements taken a few seconds apart.
With --peer json-server, the peer is driven the same way beside them; --scale compares each list's
p50 at 10,000 and 1,000,000 rows; --memory reads the workers' memory over a long mixed run."""
import argparse
import datetime as dt
import os
import shlex
import sys
import tempfile
from pathlib import Path

from . import cases, combinations, imports, inprocess, loadgen, moments, peer, report, scaling
from .driver import Driver
from .runs import (
    SCALE_ROWS,
    log,
    run_backend,
    run_combinations,
    run_csv,
    run_imports,
    run_memory,
    run_moments,
    run_scale,
)
from .servers import REPO_ROOT, gunicorn_settings

BACKENDS = ("sqlite", "postgresql")
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/bench_mentor_status"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--short", action="store_true",
                        help="CI smoke run: 2 s per case, 500 rows, docs/benchmarks.md left alone")
    parser.add_argument("--backends", help="comma-separated: sqlite,postgresql (default both; --scale: postgresql)")
    parser.add_argument("--cases", help="comma-separated subset of cases (default: the targeted ones)")
    parser.add_argument("--list-filters", action="store_true",
                        help="also the list cases whose cost grew with the table (overdue, deep pages, ...)")
    parser.add_argument("--peer", choices=("json-server",), help="drive json-server 0.17 beside the service "
                        "(installed with npm into ~/.cache/mentor-status-bench; skipped without node)")
    parser.add_argument("--scale", action="store_true", help="every list combination (each filter value of the "
                        "list schemas x every sort, bench/combinations.py) at 10,000 and 1,000,000 rows side by side; "
                        "with --cases, those wrk cases at each size too (wrk -t1 -c4 unless given)")
    parser.add_argument("--only", metavar="SUBSTRING", help="--scale: only the combinations whose path and query "
                        "(as in the table, e.g. `reason=`) contain SUBSTRING")
    parser.add_argument("--memory", type=int, metavar="REQUESTS", help="drive the mixed case until REQUESTS "
                        "requests were answered, reading each worker's RSS along the way")
    parser.add_argument("--writes", action="store_true", help="PostgreSQL only: pgbench at 1, 4, 16, 64 writers, the "
                        "service's write (from its SQL log) beside the same write with no shared row")
    parser.add_argument("--instances", action="store_true", help="PostgreSQL only: POST and pause/resume at 4, 16, "
                        "64 connections on one instance and on two through PgBouncer, sampling lock waits")
    parser.add_argument("--csv", action="store_true", help="export each list whole as CSV (default 1,000,000 rows): "
                        "rows/s, time to first bytes, worker RSS growth")
    parser.add_argument("--baseline", metavar="DIR", help="--csv: also export from a service running DIR's code (a "
                        "checkout of the code before) on the same database, alternating with this one's")
    parser.add_argument("--rounds", type=int, default=1, help="--csv: exports of each list per service (default 1)")
    parser.add_argument("--seeded", action="append", default=[], metavar="URL", help="--csv: a database seeded "
                        "before (bench/seed.py) to use as it is, kept afterwards; one per backend")
    parser.add_argument("--imports", action="store_true", help="bulk loads of 10,000 mentors (short: 500) through "
                        "the import endpoint into the seeded database: seconds each, and single writes meanwhile")
    parser.add_argument("--moments", action="store_true", help="10,000 scheduled pauses falling due at one moment "
                        "in the seeded database, applied by the service's appliers: seconds until all are, and "
                        "single writes meanwhile")
    parser.add_argument("--applier", default="web", help="--moments: comma-separated, each run in turn on each "
                        "backend: web (the gunicorn workers' threads) or process (SCHEDULE_IN_WEB=false and one "
                        "`scheduler` process of the Procfile); default %(default)s")
    parser.add_argument("--rows", type=int, help="mentors and pause records to seed (default 10000; short: 500; "
                        "--csv: 1000000)")
    parser.add_argument("--duration", type=int, help="seconds per case and per ceiling (default 10; short: 2)")
    parser.add_argument("--wrk-threads", type=int)
    parser.add_argument("--connections", type=int)
    parser.add_argument("--workers", type=int, help="WEB_CONCURRENCY (default: as gunicorn.conf.py gives)")
    parser.add_argument("--worker-class", help="e.g. sync, gthread (default: gunicorn.conf.py)")
    parser.add_argument("--threads", type=int, help="threads per worker; >1 means gthread")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG_URL),
                        help="a database to DROP and recreate (env BENCH_DATABASE_URL; default %(default)s)")
    parser.add_argument("--label", help="names the run in docs/benchmarks.md (default: from rows and mode)")
    parser.add_argument("--docs", help="markdown file to update (default docs/benchmarks.md; none with --short)")
    parser.add_argument("--no-docs", action="store_true", help="print only")
    parser.add_argument("--with", dest="beside", type=inprocess.settings, action="append", metavar="SETTING=VALUE",
                        help="also drive each case on a second service given this setting (repeatable; e.g. "
                        "RATE_LIMIT=100000000/minute), right after the service as deployed, against the same ceiling")
    parser.add_argument("--profile", metavar="DIR", help="py-spy record one service worker per case into DIR "
                        "(slows that worker: ratios of a profiled run mean little)")
    args = parser.parse_args(argv)
    args.cases_given = args.cases is not None
    args.applier = _choices(args.applier, moments.APPLIERS, parser, "--applier")
    args.rows = args.rows or (500 if args.short else 1_000_000 if args.csv else 10_000)
    args.duration = args.duration or (2 if args.short else 10)
    args.wrk_threads = args.wrk_threads or (1 if args.scale else 2)
    args.connections = args.connections or (4 if args.scale else 32)
    args.backends = _choices(args.backends or ("postgresql" if args.scale else ",".join(BACKENDS)), BACKENDS,
                             parser, "--backends")
    default_cases = cases.SCALE_CASE_NAMES if args.scale else cases.CASE_NAMES + (
        tuple(case.name for case in cases.LIST_FILTER_CASES) if args.list_filters else ())
    selected = _choices(args.cases or ",".join(default_cases), [case.name for case in cases.ALL_CASES], parser,
                        "--cases")
    args.cases = [case for case in cases.ALL_CASES if case.name in selected]
    args.label = args.label or ("short" if args.short else "scale" if args.scale else "csv" if args.csv
                                else "memory" if args.memory else "writes" if args.writes
                                else "instances" if args.instances else "imports" if args.imports
                                else "moments" if args.moments
                                else "default" if args.rows == 10_000 else f"rows-{args.rows}")
    if args.no_docs or args.writes or args.instances or args.moments:  # those tables go into the docs by hand
        args.docs = None
    elif args.docs is None and not args.short:
        args.docs = str(REPO_ROOT / "docs" / "benchmarks.md")
    return args


def _choices(raw, allowed, parser, option):
    chosen = [item.strip() for item in raw.split(",") if item.strip()]
    unknown = sorted(set(chosen) - set(allowed))
    if unknown or not chosen:
        parser.error(f"{option}: choose from {', '.join(allowed)} (got {raw!r})")
    return chosen


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    wrk = loadgen.find_wrk(log)
    settings = effective_settings(args)
    log(f"wrk: {wrk}; server: {settings['workers']} x {settings['worker_class']}, {settings['threads']} thread(s); "
        f"{args.rows:,} rows; {args.duration} s per case")
    peer_executable = peer.install(log) if args.peer else None
    run = {"command": command_line(), "settings": settings,
           "machine": report.machine_info(args.pg_url if "postgresql" in args.backends else None)}
    with tempfile.TemporaryDirectory(prefix="bench-") as workdir:
        if args.writes:
            run["writes"] = scaling.run_writes(args.pg_url, args.rows, args.duration, Path(workdir), log)
            text = scaling.writes_table(run["writes"])
        elif args.instances:
            drive = Driver(wrk, args, "", args.rows)
            run["instances"] = scaling.run_instances(args.pg_url, args.rows, args.duration, Path(workdir), drive, log)
            text = scaling.instances_table(run["instances"])
        elif args.memory:
            run["memory_run"] = {backend: run_memory(backend, args, wrk, Path(workdir)) for backend in args.backends}
            text = report.memory_run_table(run["memory_run"])
        elif args.imports:
            run["imports"] = [result for backend in args.backends
                              for result in run_imports(backend, args, Path(workdir))]
            text = imports.imports_table(run["imports"])
        elif args.moments:
            run["moments"] = [run_moments(backend, args, Path(workdir), applier)
                              for backend in args.backends for applier in args.applier]
            text = moments.moments_table(run["moments"])
        elif args.csv:
            run["csv"] = [result for backend in args.backends for result in run_csv(backend, args, Path(workdir))]
            text = report.csv_table(run["csv"])
        elif args.scale:
            run["combinations"] = run_combinations(args, Path(workdir))
            text = combinations.table_of(SCALE_ROWS, run["combinations"])
            if args.cases_given:
                run["scale"] = run_scale(args, wrk, Path(workdir))
                text += "\n\n" + report.scale_table(run["scale"])
        else:
            results, memory = [], {}
            for backend in args.backends:
                rows, memory[backend] = run_backend(backend, args, wrk, Path(workdir), peer_executable)
                results.extend(rows)
            run.update(results=results, memory=memory)
            text = report.table(results) + "\n\n" + report.memory_table(memory)
    run["finished"] = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    print()
    print(text)
    saved = report.save_json(REPO_ROOT / "bench" / "results", args.label, run)
    log(f"raw results: {saved.relative_to(REPO_ROOT)}")
    if args.docs:
        report.update_docs(args.docs, args.label, report.markdown_block(args.label, run))
        log(f"updated {args.docs} (section {args.label!r})")
    return 0


def effective_settings(args):
    defaults = gunicorn_settings()
    threads = args.threads or defaults["threads"]
    worker_class = args.worker_class or defaults["worker_class"]
    if worker_class == "sync" and threads > 1:
        worker_class = "gthread"  # as gunicorn switches
    return {"workers": args.workers or defaults["workers"], "worker_class": worker_class, "threads": threads,
            "wrk_threads": args.wrk_threads, "connections": args.connections, "duration": args.duration,
            "rows": args.rows}


def command_line():
    return " ".join(["python -m bench", shlex.join(sys.argv[1:])]).strip()
