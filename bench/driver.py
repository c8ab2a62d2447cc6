"""wrk with a bench run's settings (Driver), the cursor a case's page asks for, and py-spy on a
worker while a case runs (--profile)."""
import dataclasses
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

from . import cases, loadgen


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


def py_spy():
    """py-spy beside this Python (a virtualenv's bin is not always on PATH), else from PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else "py-spy"
