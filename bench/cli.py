"""`python -m bench`: seed each backend, start the service and the ceiling under gunicorn.conf.py,
and drive both with wrk, alternating, so every ratio compares measurements taken a few seconds apart."""
import argparse
import datetime as dt
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import cases, loadgen, report, seed
from .servers import REPO_ROOT, Gunicorn, gunicorn_settings

BACKENDS = ("sqlite", "postgresql")
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/bench_mentor_status"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--short", action="store_true",
                        help="CI smoke run: 2 s per case, 500 rows, docs/benchmarks.md left alone")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated: sqlite,postgresql")
    parser.add_argument("--cases", default=",".join(cases.CASE_NAMES), help="comma-separated subset of cases")
    parser.add_argument("--rows", type=int, help="mentors and pause records to seed (default 10000; short: 500)")
    parser.add_argument("--duration", type=int, help="seconds per case and per ceiling (default 10; short: 2)")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, help="WEB_CONCURRENCY (default: as gunicorn.conf.py gives)")
    parser.add_argument("--worker-class", help="e.g. sync, gthread (default: gunicorn.conf.py)")
    parser.add_argument("--threads", type=int, help="threads per worker; >1 means gthread")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG_URL),
                        help="a database to DROP and recreate (env BENCH_DATABASE_URL; default %(default)s)")
    parser.add_argument("--label", help="names the run in docs/benchmarks.md (default: from rows and mode)")
    parser.add_argument("--docs", help="markdown file to update (default docs/benchmarks.md; none with --short)")
    parser.add_argument("--no-docs", action="store_true", help="print only")
    parser.add_argument("--profile", metavar="DIR", help="py-spy record one service worker per case into DIR "
                        "(slows that worker: ratios of a profiled run mean little)")
    args = parser.parse_args(argv)
    args.rows = args.rows or (500 if args.short else 10_000)
    args.duration = args.duration or (2 if args.short else 10)
    args.backends = _choices(args.backends, BACKENDS, parser, "--backends")
    selected = _choices(args.cases, cases.CASE_NAMES, parser, "--cases")
    args.cases = [case for case in cases.CASES if case.name in selected]
    args.label = args.label or ("short" if args.short else "default" if args.rows == 10_000 else f"rows-{args.rows}")
    if args.no_docs:
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
    results, memory = [], {}
    with tempfile.TemporaryDirectory(prefix="bench-") as workdir:
        for backend in args.backends:
            rows, memory[backend] = run_backend(backend, args, wrk, Path(workdir))
            results.extend(rows)
    run = {"command": command_line(), "finished": dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
           "settings": settings, "machine": report.machine_info(args.pg_url if "postgresql" in args.backends else None),
           "results": results, "memory": memory}
    print()
    print(report.table(results))
    print()
    print(report.memory_table(memory))
    saved = report.save_json(REPO_ROOT / "bench" / "results", args.label, run)
    log(f"raw results: {saved.relative_to(REPO_ROOT)}")
    if args.docs:
        report.update_docs(args.docs, args.label, report.markdown_block(args.label, run))
        log(f"updated {args.docs} (section {args.label!r})")
    return 0


def effective_settings(args):
    defaults = gunicorn_settings()
    threads = args.threads or defaults["threads"]
    worker_class = args.worker_class or ("gthread" if threads > 1 else defaults["worker_class"])
    return {"workers": args.workers or defaults["workers"], "worker_class": worker_class, "threads": threads,
            "wrk_threads": args.wrk_threads, "connections": args.connections, "duration": args.duration,
            "rows": args.rows}


def command_line():
    return " ".join(["python -m bench", shlex.join(sys.argv[1:])]).strip()


def run_backend(backend, args, wrk, workdir):
    """Every selected case on one backend, each between two ceiling measurements."""
    started = time.monotonic()
    database_url = prepare_database(backend, args, workdir)
    log(f"{backend}: seeded {args.rows:,} mentors and pause records in {time.monotonic() - started:.1f} s")
    servers = dict(workers=args.workers, worker_class=args.worker_class, threads=args.threads,
                   database_url=database_url)
    service = Gunicorn("wsgi:app", ready_path="/healthz", log_path=workdir / f"{backend}-service.log", **servers)
    ceiling = Gunicorn("bench.ceiling_app:app", ready_path="/ceiling", log_path=workdir / f"{backend}-ceiling.log",
                       **servers)
    tag = f"{backend[:2]}{int(time.time())}"
    drive = Driver(wrk, args, tag)
    try:
        with service, ceiling:
            rss_before = service.worker_rss_kib()
            drive.warm_up(service, ceiling)
            rows = measure_alternating(backend, args, drive, service, ceiling)
            rss_after = service.worker_rss_kib()
    finally:
        if backend == "postgresql":
            seed.drop_postgresql(database_url)
    return rows, (rss_before, rss_after)


def prepare_database(backend, args, workdir):
    if backend == "sqlite":
        return seed.prepare_sqlite(str(workdir / "bench.db"), args.rows)
    return seed.prepare_postgresql(args.pg_url, args.rows)


def measure_alternating(backend, args, drive, service, ceiling):
    rows = []
    before = drive.run(cases.CEILING, ceiling)
    for case in args.cases:
        with profiling(args.profile, backend, case, service, args.duration):
            result = drive.run(case, service)
        after = drive.run(cases.CEILING, ceiling)
        ceiling_rps = (before.rps + after.rps) / 2
        row = {"backend": backend, "case": case.name, "rps": result.rps, "p50_ms": result.p50_ms,
               "p99_ms": result.p99_ms, "errors": result.errors, "ceiling_rps": ceiling_rps,
               "ratio": result.rps / ceiling_rps if ceiling_rps else 0.0, "target": case.target(backend)}
        log(f"{backend} {case.name}: {result.rps:.0f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
            f"ceiling {ceiling_rps:.0f} req/s, ratio {row['ratio']:.2f}, errors {result.errors}")
        rows.append(row)
        before = after
    return rows


class Driver:
    """wrk with this run's settings."""

    def __init__(self, wrk, args, tag):
        self.wrk, self.args, self.tag = wrk, args, tag

    def run(self, case, server, seconds=None):
        return loadgen.run(self.wrk, case, server.url, seconds=seconds or self.args.duration,
                           threads=self.args.wrk_threads, connections=self.args.connections,
                           rows=self.args.rows, tag=self.tag)

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
            ["py-spy", "record", "--pid", str(pid), "--duration", str(self.seconds), "--rate", "200",
             "--format", "raw", "--output", str(output), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def __exit__(self, *exc_info):
        if self.process:
            self.process.wait(timeout=self.seconds + 30)
