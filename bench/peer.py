"""The peer a user would try first: json-server 0.17, serving the same mentors as the service.

Installed with npm into a cache directory on first use (node and npm must be on PATH; without them
the peer is skipped with a message), started with `--id mentor_id` on a db.json of the seeded mentors
as the API shows them, and driven by the cases that have a `peer_script`.
"""
import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

from . import seed
from .servers import free_port

VERSION = "0.17.4"
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mentor-status-bench"


def install(log):
    """The path of json-server's executable, installing it when missing; None when node or npm is not there."""
    if not (shutil.which("node") and shutil.which("npm")):
        log("peer skipped: node and npm are needed to run json-server")
        return None
    executable = CACHE_DIR / "node_modules" / ".bin" / "json-server"
    if not executable.exists():
        log(f"installing json-server {VERSION} into {CACHE_DIR}")
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(["npm", "install", "--prefix", str(CACHE_DIR), "--no-audit", "--no-fund",
                                 f"json-server@{VERSION}"], capture_output=True, text=True, timeout=600)
        if result.returncode != 0 or not executable.exists():
            log(f"peer skipped: npm install json-server@{VERSION} failed:\n{result.stderr[-2000:]}")
            return None
    return executable


class JsonServer:
    """json-server on 127.0.0.1 serving `rows` seeded mentors at /mentor-statuses."""

    def __init__(self, executable, rows, workdir):
        self.executable, self.rows, self.workdir = executable, rows, Path(workdir)
        self.port = free_port()
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        database = self.workdir / "peer-db.json"
        database.write_text(json.dumps({"mentor-statuses": list(seed.mentor_documents(self.rows))}))
        with open(self.workdir / "peer.log", "ab") as log:
            self.process = subprocess.Popen(
                [str(self.executable), str(database), "--id", "mentor_id", "--port", str(self.port),
                 "--host", "127.0.0.1", "--quiet"], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"json-server exited {self.process.returncode}: see {self.workdir / 'peer.log'}")
            try:
                with urllib.request.urlopen(f"{self.url}/mentor-statuses/{seed.mentor_id(1)}", timeout=2):
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("json-server did not answer within 60 s")

    def __exit__(self, *exc_info):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
