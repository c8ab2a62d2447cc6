"""What each kind of `python -m bench` run does (cli.py picks one): seed a database, start the
service and the ceiling under gunicorn.conf.py, drive them with wrk (driver.py), and return the
figures that report.py renders."""
import os
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

from . import cases, combinations, csv_exports, imports, moments, peer, seed
from .driver import Driver, profiling
from .servers import Gunicorn

SCALE_ROWS = (10_000, 1_000_000)
MIXED = cases.Case("mixed", "every read case and POST, in turn", "mixed.lua")


def log(message):
    print(f"[bench] {message}", flush=True)


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
