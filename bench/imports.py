"""`python -m bench --imports`: bulk loads of 10,000 mentors through POST /api/v1/mentor-statuses/import
into a seeded database, timed from the request to the response, with single PUTs to other mentors
sent meanwhile (on PostgreSQL a load must not delay them)."""
import json
import threading
import time
import urllib.error
import urllib.request

from harness.servers import InThread

IMPORT = "/api/v1/mentor-statuses/import"
LOAD_ROWS = 10_000
TARGET_S = 2.0


def _as_created(i):
    return "paused,travel" if i % 10 == 0 else "active,"


def _changed(i):
    return "active," if i % 10 == 0 else "inactive,"


STEPS = (("create", "create", _as_created), ("upsert unchanged", "upsert", _as_created),
         ("upsert changed", "upsert", _changed))  # (name, mode, the cells of row i)


def load_csv(rows, cells):
    lines = ["mentor_id,status,pause_reason"] + [f"imported-{i:06d},{cells(i)}" for i in range(rows)]
    return ("\r\n".join(lines) + "\r\n").encode()


def post(url, body, content_type="text/csv", method="POST"):
    """(status, parsed body, seconds) of one request."""
    request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": content_type})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    return status, json.loads(payload or b"null"), time.monotonic() - started


class SingleWrites(InThread):
    """PUTs to seeded mentors (outside any load), one after another, while a load runs: their
    slowest time tells whether the load delayed them."""

    def __init__(self, base_url, mentor_ids):
        super().__init__(daemon=False)
        self.base_url, self.mentor_ids = base_url, mentor_ids
        self.seconds, self.failures = [], 0
        self._stopping = threading.Event()

    def run(self):
        number = 0
        while not self._stopping.is_set():
            mentor_id = self.mentor_ids[number % len(self.mentor_ids)]
            body = json.dumps({"metadata": {"bench": number}}).encode()
            status, _, seconds = post(f"{self.base_url}/api/v1/mentor-statuses/{mentor_id}", body,
                                      "application/json", "PUT")
            self.seconds.append(seconds)
            self.failures += status != 200
            number += 1

    def stop(self):
        self._stopping.set()
        self._thread.join()


def run_imports(backend, service, rows, log):
    """Each step of STEPS as one load of `rows` rows on `service` (a started server of a seeded
    database); returns one result per step."""
    results = []
    seeded = [f"mentor-{i:07d}" for i in range(2, 200, 10)]
    with SingleWrites(service.url, seeded) as quiet:  # single writes with no load running, for reference
        time.sleep(1)
    for name, mode, cells in STEPS:
        body = load_csv(rows, cells)
        with SingleWrites(service.url, seeded) as during:
            status, answer, seconds = post(f"{service.url}{IMPORT}?mode={mode}", body)
        if status != 200:
            raise RuntimeError(f"{backend} {name}: {status} {answer}")
        result = {"backend": backend, "step": name, "rows": rows, "seconds": seconds, "bytes": len(body),
                  "answer": answer, "single_write_max_s": max(during.seconds, default=0.0),
                  "single_write_max_quiet_s": max(quiet.seconds, default=0.0),
                  "single_write_failures": during.failures}
        log(f"{backend} import {name}: {rows:,} rows in {seconds:.2f} s ({answer}); single PUTs meanwhile: "
            f"{len(during.seconds)}, slowest {result['single_write_max_s'] * 1000:.0f} ms (without a load "
            f"{result['single_write_max_quiet_s'] * 1000:.0f} ms), {during.failures} failed")
        results.append(result)
    return results


def imports_table(results):
    lines = ["| backend | load | rows | seconds | answer | slowest single PUT meanwhile, ms (without a load) | "
             "on target |", "|---|---|---:|---:|---|---:|:-:|"]
    for result in results:
        met = result["seconds"] < TARGET_S and result["single_write_failures"] == 0
        lines.append(f"| {result['backend']} | {result['step']} | {result['rows']:,} | {result['seconds']:.2f} | "
                     f"{json.dumps(result['answer'])} | {result['single_write_max_s'] * 1000:.0f} "
                     f"({result['single_write_max_quiet_s'] * 1000:.0f}) | {'yes' if met else 'NO'} |")
    return "\n".join(lines)
