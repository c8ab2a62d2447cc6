"""Starting gunicorn with the project's own gunicorn.conf.py, and reading its workers' memory."""
import os
import runpy
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


class ServerError(RuntimeError):
    pass


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """`gunicorn -c gunicorn.conf.py <app>` from the repository root, bound to 127.0.0.1 only.

    Worker settings come the way a deployment gives them: WEB_CONCURRENCY for the count, and
    GUNICORN_CMD_ARGS (which overrides the config file) for a worker class or threads under test.
    """

    def __init__(self, app, *, database_url, workers, worker_class, threads, ready_path, log_path):
        self.app = app
        self.database_url = database_url
        self.workers = workers
        self.worker_class = worker_class
        self.threads = threads
        self.ready_path = ready_path
        self.log_path = log_path
        self.port = free_port()
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=60):
        extra = [f"--bind=127.0.0.1:{self.port}"]
        if self.worker_class:
            extra.append(f"--worker-class={self.worker_class}")
        if self.threads:
            extra.append(f"--threads={self.threads}")
        env = dict(os.environ, DATABASE_URL=self.database_url, PORT=str(self.port),
                   GUNICORN_CMD_ARGS=" ".join(extra))
        if self.workers:
            env["WEB_CONCURRENCY"] = str(self.workers)
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", self.app],
                cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()  # `with` never calls __exit__ when __enter__ fails
            raise
        return self

    def _wait_ready(self, timeout):
        """Until the app answers and every worker is forked (gunicorn starts them one by one)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"gunicorn {self.app} exited {self.process.returncode}:\n{self.log_tail()}")
            if self._answers() and len(self.worker_pids()) >= self.expected_workers():
                return
            time.sleep(0.2)
        raise ServerError(f"gunicorn {self.app} not ready after {timeout}s:\n{self.log_tail()}")

    def log_tail(self, lines=30):
        """The end of the server's log: it lives in a temporary directory that goes with the run."""
        try:
            return "\n".join(Path(self.log_path).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _answers(self):
        try:
            with urllib.request.urlopen(self.url + self.ready_path, timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def expected_workers(self):
        return self.workers or gunicorn_settings()["workers"]

    def worker_pids(self):
        return child_pids(self.process.pid)

    def worker_rss_kib(self):
        """VmRSS of each worker, in KiB."""
        return [rss for rss in map(vm_rss_kib, self.worker_pids()) if rss is not None]

    def stop(self, timeout=15):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # gunicorn: graceful shutdown
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


def gunicorn_settings():
    """Worker settings gunicorn.conf.py gives in this environment (it reads WEB_CONCURRENCY)."""
    environ = dict(os.environ)
    try:
        settings = runpy.run_path(str(REPO_ROOT / "gunicorn.conf.py"))
    finally:
        # It sets PROMETHEUS_MULTIPROC_DIR for its own server: the servers started from here make their own.
        os.environ.clear()
        os.environ.update(environ)
    return {"workers": settings.get("workers", 1), "worker_class": settings.get("worker_class", "sync"),
            "threads": settings.get("threads", 1)}


def child_pids(pid):
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        return [int(child) for child in children.read_text().split()]
    found = []  # kernels without CONFIG_PROC_CHILDREN: scan every process's parent
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def vm_rss_kib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None
