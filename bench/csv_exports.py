"""`python -m bench --csv`: each list exported whole as CSV from a database of 1,000,000 mentors and
pause records: rows/s, seconds to the first bytes, and the worker's RSS growth meanwhile. With
`--baseline DIR`, a second service runs DIR's code (a checkout of the code before a change) on the
same database, and each export is taken from both in turn, `--rounds` times: before and after
measured a few seconds apart, on a machine whose load moves."""
import threading
import time
import urllib.request

from . import seed
from .servers import REPO_ROOT, Gunicorn

PATHS = ("/api/v1/mentor-statuses?format=csv", "/api/v1/pause-records?format=csv&sort=-start_date")


def measure_csv_export(service, path):
    """One export of `path` as CSV: rows, rows/s, seconds to the first bytes, and each worker's RSS
    before and at its largest during the export (polled every 50 ms)."""
    rss_before, peak, done = service.worker_rss_kib(), [], threading.Event()

    def poll():
        while not done.is_set():
            peak.append(service.worker_rss_kib())
            time.sleep(0.05)

    sampler = threading.Thread(target=poll)
    sampler.start()
    started = time.monotonic()
    first_bytes, rows, last = None, 0, b""
    try:
        with urllib.request.urlopen(f"{service.url}{path}", timeout=600) as response:
            while chunk := response.read1(1 << 16):
                first_bytes = first_bytes or time.monotonic() - started
                rows += (last + chunk[:1]).count(b"\r\n") + chunk.count(b"\r\n")  # a CRLF across two reads
                last = chunk[-1:]
    finally:
        done.set()
        sampler.join()
    seconds = time.monotonic() - started
    growth = max((max(sample[i] for sample in peak if len(sample) > i) - before
                  for i, before in enumerate(rss_before)), default=0)
    return {"path": path, "rows": rows - 1, "seconds": seconds, "rows_per_s": (rows - 1) / seconds,
            "first_bytes_s": first_bytes, "rss_growth_mib": growth / 1024}


def run_csv(backend, args, workdir, database_url, log):
    """Each of PATHS exported whole from `database_url` (seeded), by this checkout's service and,
    with `args.baseline`, by the baseline's, `args.rounds` times: the baseline first in odd rounds,
    second in even ones (the second of two exports of the same rows finds more of them cached)."""
    roots = {"baseline": args.baseline} if args.baseline else {}
    roots["this"] = REPO_ROOT
    services = {code: Gunicorn("wsgi:app", database_url=database_url, workers=args.workers,
                               worker_class=args.worker_class, threads=args.threads, ready_path="/healthz",
                               log_path=workdir / f"{backend}-{code}-service.log", root=root)
                for code, root in roots.items()}
    results = []
    try:
        for service in services.values():
            service.start()
            # Warm-up: imports, a connection, the CSV code, with one row: an export of every row here (as
            # `limit=1` was, which an export ignores) filled one worker's page cache before the figures.
            measure_csv_export(service, f"/api/v1/pause-records?format=csv&mentor_id={seed.mentor_id(1)}")
        for round_ in range(1, args.rounds + 1):
            for path in PATHS:
                for code, service in list(services.items())[::1 if round_ % 2 else -1]:
                    result = {"backend": backend, "code": code, "round": round_, **measure_csv_export(service, path)}
                    log(f"{backend} {code} round {round_} {path}: {result['rows']:,} rows in "
                        f"{result['seconds']:.1f} s, {result['rows_per_s']:,.0f} rows/s, first bytes "
                        f"{result['first_bytes_s']:.3f} s, RSS growth {result['rss_growth_mib']:.1f} MiB")
                    results.append(result)
    finally:
        for service in services.values():
            service.stop()
    return results
