"""`python -m bench`: seed each backend, start the service and the ceiling under gunicorn.conf.py,
and drive both with wrk, alternating, so every ratio compares measurements taken a few seconds apart.
With --peer json-server, the peer is driven the same way beside them; --scale compares each list's
p50 at 10,000 and 1,000,000 rows; --memory reads the workers' memory over a long mixed run."""
import argparse
import dataclasses
import datetime as dt
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from . import cases, combinations, csv_exports, imports, inprocess, loadgen, moments, peer, report, scaling, seed
from .servers import REPO_ROOT, Gunicorn, gunicorn_settings

BACKENDS = ("sqlite", "postgresql")
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/bench_mentor_status"
SCALE_ROWS = (10_000, 1_000_000)
MIXED = cases.Case("mixed", "every read case and POST, in turn", "mixed.lua")


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


def log(message):
    print(f"[bench] {message}", flush=True)


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


def servers_for(backend, args, workdir, rows=None):
    """The seeded database's service and the ceiling, not yet started."""
    rows = rows or args.rows
    started = time.monotonic()
    database_url = prepare_database(backend, args, workdir, rows)
    log(f"{backend}: seeded {rows:,} mentors, their pause records and change log in "
        f"{time.monotonic() - started:.1f} s")
    settings = dict(workers=args.workers, worker_class=args.worker_class, threads=args.threads,
                    database_url=database_url)
    service = Gunicorn("wsgi:app", ready_path="/healthz", log_path=workdir / f"{backend}-service.log", **settings)
    ceiling = Gunicorn("bench.ceiling_app:app", ready_path="/ceiling", log_path=workdir / f"{backend}-ceiling.log",
                       **settings)
    return database_url, service, ceiling


def run_backend(backend, args, wrk, workdir, peer_executable=None, rows=None):
    """Every selected case on one backend, each between two ceiling measurements."""
    rows = rows or args.rows
    database_url, service, ceiling = servers_for(backend, args, workdir, rows)
    drive = Driver(wrk, args, f"{backend[:2]}{int(time.time())}", rows)
    peer_server = peer.JsonServer(peer_executable, rows, workdir) if peer_executable else None
    beside = Gunicorn("wsgi:app", ready_path="/healthz", log_path=workdir / f"{backend}-with.log",
                      workers=args.workers, worker_class=args.worker_class, threads=args.threads,
                      database_url=database_url, env=dict(args.beside)) if args.beside else None
    try:
        with service, ceiling, (peer_server or _Nothing()), (beside or _Nothing()):
            rss_before = service.worker_rss_kib()
            drive.warm_up(service, ceiling)
            if beside:
                drive.run(cases.CASES[0], beside, seconds=1)
            results = measure_alternating(backend, args, drive, service, ceiling, peer_server, beside)
            rss_after = service.worker_rss_kib()
    finally:
        if backend == "postgresql":
            seed.drop_postgresql(database_url)
    return results, (rss_before, rss_after)


def run_scale(args, wrk, workdir):
    """Each case's result at each of SCALE_ROWS, on each backend."""
    return {backend: {rows: run_backend(backend, args, wrk, workdir, rows=rows)[0] for rows in SCALE_ROWS}
            for backend in args.backends}


def run_combinations(args, workdir):
    """Every combination of filter and sort of each list (bench/combinations.py), on PostgreSQL, at
    each of SCALE_ROWS at once: {"p50_ms": [{url: p50} per size], "problems": [...]}."""
    combos, problems = combinations.generate()
    if args.only:
        combos = combinations.containing(combos, args.only)
    for problem in problems:
        log(problem)
    log(f"{len(combos)} combinations of filters and sorts")
    name = urlparse(args.pg_url).path.lstrip("/")
    urls = [urlparse(args.pg_url)._replace(path=f"/{name}_{rows}").geturl() for rows in SCALE_ROWS]
    services = []
    try:
        for rows, url in zip(SCALE_ROWS, urls):
            started = time.monotonic()
            seed.prepare_postgresql(url, rows)
            log(f"postgresql: seeded {rows:,} rows in {time.monotonic() - started:.1f} s")
            services.append(Gunicorn("wsgi:app", database_url=url, workers=args.workers, worker_class=args.worker_class,
                                     threads=args.threads, ready_path="/healthz",
                                     log_path=workdir / f"combinations-{rows}.log"))
        for service in services:
            service.start()
        started = time.monotonic()
        p50s = combinations.scan([service.url for service in services], combos, log=log)
        log(f"scanned in {time.monotonic() - started:.0f} s")
        return {"p50_ms": p50s, "problems": problems}
    finally:
        for service in services:
            service.stop()
        for url in urls:
            seed.drop_postgresql(url)


def run_memory(backend, args, wrk, workdir, chunk_seconds=10):
    """Each worker's RSS, [(requests answered, [KiB, ...]), ...]: first after a warm-up of a fifth of
    `args.memory` requests (enough for the database's page cache to hold what the cases read), then
    after each chunk of the mixed case, until `args.memory` more were answered."""
    database_url, service, _ = servers_for(backend, args, workdir)
    drive = Driver(wrk, args, "", args.rows)
    samples, answered, warm_up = [], 0, args.memory // 5
    try:
        with service:
            while answered < warm_up + args.memory:
                drive.tag = f"{backend[:2]}{time.time_ns()}"  # new ids for this chunk's POSTs
                result = drive.run(MIXED, service, seconds=chunk_seconds)
                answered += result.requests
                if answered >= warm_up:
                    samples.append((answered - warm_up if samples else 0, service.worker_rss_kib()))
                log(f"{backend} mixed: {answered:,} requests ({'measured' if samples else 'warm-up'}), RSS per "
                    f"worker {', '.join(f'{kib / 1024:.1f}' for kib in service.worker_rss_kib())} MiB, "
                    f"errors {result.errors}")
    finally:
        if backend == "postgresql":
            seed.drop_postgresql(database_url)
    return samples


def py_spy():
    """py-spy beside this Python (a virtualenv's bin is not always on PATH), else from PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else "py-spy"


class _Nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc_info):
        pass


def prepare_database(backend, args, workdir, rows):
    if backend == "sqlite":
        return seed.prepare_sqlite(str(workdir / f"bench-{rows}.db"), rows)
    return seed.prepare_postgresql(args.pg_url, rows)


def measure_alternating(backend, args, drive, service, ceiling, peer_server=None, beside=None):
    rows = []
    before = drive.run(cases.CEILING, ceiling)
    for case in args.cases:
        with profiling(args.profile, backend, case, service, args.duration):
            result = drive.run(case, service)
        peer_result = drive.run(case, peer_server, script=case.peer_script) if (
            peer_server and case.peer_script) else None
        # Its own ids for the POSTs: both services write to the one database.
        with_result = drive.run(case, beside, tag=f"{drive.tag}w") if beside else None
        after = drive.run(cases.CEILING, ceiling)
        ceiling_rps = (before.rps + after.rps) / 2
        row = {"backend": backend, "case": case.name, "rps": result.rps, "p50_ms": result.p50_ms,
               "p99_ms": result.p99_ms, "errors": result.errors, "ceiling_rps": ceiling_rps,
               "ratio": result.rps / ceiling_rps if ceiling_rps else 0.0, "target": case.target(backend)}
        message = (f"{backend} {case.name}: {result.rps:.0f} req/s, p50 {result.p50_ms:.1f} ms, "
                   f"p99 {result.p99_ms:.1f} ms, ceiling {ceiling_rps:.0f} req/s, ratio {row['ratio']:.2f}, "
                   f"errors {result.errors}")
        if peer_result:
            row.update(peer_rps=peer_result.rps, peer_p50_ms=peer_result.p50_ms, peer_p99_ms=peer_result.p99_ms,
                       peer_ratio=peer_result.rps / ceiling_rps if ceiling_rps else 0.0)
            message += f"; json-server {peer_result.rps:.0f} req/s, ratio {row['peer_ratio']:.2f}"
        if with_result:
            row.update(with_settings=" ".join(f"{k}={v}" for k, v in args.beside), with_rps=with_result.rps,
                       with_p50_ms=with_result.p50_ms, with_ratio=with_result.rps / ceiling_rps if ceiling_rps else 0.0)
            message += f"; with {row['with_settings']} {with_result.rps:.0f} req/s, ratio {row['with_ratio']:.2f}"
        log(message)
        rows.append(row)
        before = after
    return rows


def cursor_path(base_url, path, page, limit=20):
    """`path` asking for its `page`th page by cursor: the next_cursor of page `page - 1`, or of the
    last full page when the list is shorter (its cost by cursor does not depend on the depth)."""
    def get(query):
        with urllib.request.urlopen(f"{base_url}{path}&{query}", timeout=600) as response:
            return json.load(response)["pagination"]

    total = get(f"limit={limit}")["total"]
    before = max(1, min(page - 1, total // limit - 1))
    cursor = get(f"limit={limit}&page={before}")["next_cursor"]
    return f"{path}&limit={limit}&cursor={cursor}" if cursor else path


def run_imports(backend, args, workdir):
    """Each bulk load of bench/imports.py into a database of `args.rows` mentors and pause records."""
    database_url, service, _ = servers_for(backend, args, workdir)
    try:
        with service:
            return imports.run_imports(backend, service, 500 if args.short else imports.LOAD_ROWS, log)
    finally:
        if backend == "postgresql":
            seed.drop_postgresql(database_url)


def run_moments(backend, args, workdir, applier):
    """bench/moments.py on a database of `args.rows` mentors and pause records, the service (or with
    `applier` process, a `scheduler` process beside it) looking for due moments every second."""
    # A directory of its own: a fresh SQLite database for each run in turn.
    database_url, service, _ = servers_for(backend, args, Path(tempfile.mkdtemp(prefix=f"{applier}-", dir=workdir)))
    # The service and the scheduler started below inherit them.
    os.environ.update(SCHEDULE_CHECK_S=moments.CHECK_S, SCHEDULE_IN_WEB=str(applier == "web").lower())
    try:
        with service, moments.appliers(applier, database_url) as appliers:
            return moments.run_moments(backend, service, database_url, log, 500 if args.short else moments.MOMENT_ROWS,
                                       appliers)
    finally:
        del os.environ["SCHEDULE_CHECK_S"], os.environ["SCHEDULE_IN_WEB"]
        if backend == "postgresql":
            seed.drop_postgresql(database_url)


def run_csv(backend, args, workdir):
    """bench/csv_exports.py on a database of `args.rows` mentors and pause records (or `--seeded`)."""
    seeded = seeded_url(backend, args)
    database_url = seeded or prepare_database(backend, args, workdir, args.rows)
    try:
        return csv_exports.run_csv(backend, args, workdir, database_url, log)
    finally:
        if backend == "postgresql" and not seeded:
            seed.drop_postgresql(database_url)


def seeded_url(backend, args):
    """The --seeded database of `backend`, or None."""
    return next((url for url in args.seeded if url.startswith(backend)), None)


class Driver:
    """wrk with this run's settings."""

    def __init__(self, wrk, args, tag, rows):
        self.wrk, self.args, self.tag, self.rows = wrk, args, tag, rows

    def run(self, case, server, seconds=None, script=None, connections=None, threads_of=None, tag=None):
        if case.cursor_page:
            case = dataclasses.replace(case, path=cursor_path(server.url, case.path, case.cursor_page),
                                       cursor_page=None)
        return loadgen.run(self.wrk, case, server.url, seconds=seconds or self.args.duration,
                           threads=self.args.wrk_threads, connections=connections or self.args.connections,
                           rows=self.rows, tag=tag or self.tag, script=script, threads_of=threads_of)

    def warm_up(self, service, ceiling):
        """Every worker imports lazily and opens its connection on first use: not part of any figure."""
        self.run(cases.CEILING, ceiling, seconds=1)
        self.run(cases.CASES[0], service, seconds=1)


class profiling:
    """py-spy on one worker of the service while a case runs, when --profile is given."""

    def __init__(self, directory, backend, case, service, seconds):
        self.directory, self.backend, self.case, self.service, self.seconds = directory, backend, case, service, seconds
        self.process = None

    def __enter__(self):
        if not self.directory:
            return self
        Path(self.directory).mkdir(parents=True, exist_ok=True)
        output = Path(self.directory) / f"{self.backend}-{self.case.name}.txt"
        pid = self.service.worker_pids()[0]
        # On-CPU samples only (no --idle): on a saturated machine, idle samples mostly show the worker
        # waiting for a CPU, not for the database. bench/profile_summary.py keeps only request stacks.
        self.process = subprocess.Popen(
            [py_spy(), "record", "--pid", str(pid), "--duration", str(self.seconds), "--rate", "200",
             "--format", "raw", "--output", str(output), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def __exit__(self, *exc_info):
        if self.process:
            self.process.wait(timeout=self.seconds + 30)
