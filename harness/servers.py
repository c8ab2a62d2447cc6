"""Gunicorn as a subprocess: `gunicorn -c gunicorn.conf.py <app>` from the repository root, bound to
127.0.0.1 on a free port, in its own process group so that the master and every worker can be
stopped or killed at once; its workers and their memory read from /proc. The Procfile's other
process types as it writes them (`ProcfileProcess`). And what runs in a thread
of this process beside it (`InThread`): `HttpReceiver`, for what the service calls out to."""
import os
import runpy
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


class ServerError(AssertionError):
    """A server that exited or never became ready (an AssertionError: in a test, a failure)."""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout, interval=0.1, message="condition"):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


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


class Gunicorn:
    """The service (or `app`) under gunicorn with the project's gunicorn.conf.py.

    Worker settings come the way a deployment gives them: WEB_CONCURRENCY for the count (`workers`;
    None: as gunicorn.conf.py decides), and GUNICORN_CMD_ARGS (which overrides the config file) for
    a worker class or threads under test. `env` adds to the environment; ready once `ready_path`
    answers 200 and every worker is forked. The log goes to `log_path`, else a temporary file.
    `root`: the checkout whose code runs (another one: the benchmark's baseline).
    """

    def __init__(self, database_url, workers=4, port=None, env=None, *, app="wsgi:app", worker_class=None,
                 threads=None, ready_path="/healthz", log_path=None, root=REPO_ROOT):
        self.database_url, self.workers, self.app, self.root = database_url, workers, app, root
        self.worker_class, self.threads, self.ready_path = worker_class, threads, ready_path
        self.port = port or free_port()
        self.extra_env = env or {}
        self.base_url = self.url = f"http://127.0.0.1:{self.port}"
        self.process = None
        self._own_log = log_path is None
        if log_path is None:
            with tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log", delete=False) as log:
                log_path = log.name
        self.log_path = Path(log_path)

    def environment(self):
        extra = [f"--bind=127.0.0.1:{self.port}"]
        if self.worker_class:
            extra.append(f"--worker-class={self.worker_class}")
        if self.threads:
            extra.append(f"--threads={self.threads}")
        env = {**os.environ, "DATABASE_URL": self.database_url, "PORT": str(self.port), "PYTHONUNBUFFERED": "1",
               "GUNICORN_CMD_ARGS": " ".join(extra), **self.extra_env}
        if self.workers is None:
            env.pop("WEB_CONCURRENCY", None)
        else:
            env["WEB_CONCURRENCY"] = str(self.workers)
        return env

    def start(self, wait=True, timeout=60):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", self.app],
                cwd=self.root, env=self.environment(), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        if wait:
            try:
                self.wait_ready(timeout)
            except BaseException:
                self.stop()  # `with` never calls __exit__ when __enter__ fails
                raise
        return self

    def wait_ready(self, timeout=60):
        """Until the app answers and every worker is forked (gunicorn starts them one by one)."""
        def ready():
            if self.process.poll() is not None:
                raise ServerError(f"gunicorn {self.app} exited with {self.process.returncode}:\n{self.log_tail()}")
            return self._answers() and len(self.worker_pids()) >= self.expected_workers()

        try:
            wait_until(ready, timeout, interval=0.2, message=f"gunicorn {self.app} on port {self.port}")
        except ServerError:
            raise
        except AssertionError as error:
            raise ServerError(f"{error}:\n{self.log_tail()}") from None

    def _answers(self):
        try:
            with urllib.request.urlopen(self.url + self.ready_path, timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def expected_workers(self):
        return self.workers or gunicorn_settings()["workers"]

    def worker_pids(self):
        """Pids in the server's process group other than the master."""
        if self.process is None:
            return []
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # Fields after the command name (which may hold spaces): state ppid pgrp ...
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z" and int(fields[2]) == self.process.pid and int(entry.name) != self.process.pid:
                pids.append(int(entry.name))
        return pids

    def worker_rss_kib(self):
        """VmRSS of each worker, in KiB."""
        return [rss for rss in map(vm_rss_kib, self.worker_pids()) if rss is not None]

    def kill(self):
        """SIGKILL the master and every worker at once, as a crash or an OOM kill would."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)
        # Workers are reparented on the master's death; wait until the kernel has reaped them.
        wait_until(lambda: not self.worker_pids(), 30, message="killed workers to go away")

    def stop(self):
        """SIGTERM (gunicorn's graceful shutdown), then SIGKILL for whatever is left in the group."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
        except ProcessLookupError:
            pass
        try:  # anything left in the group (a worker the master failed to reap)
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def output(self):
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines=30):
        try:
            return "\n".join(self.output().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def close(self):
        self.stop()
        if self._own_log:
            self.log_path.unlink(missing_ok=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.close()


class ProcfileProcess:
    """The Procfile's process type `name` (its command as written there, `flask` from PATH) run from
    the repository root in its own process group, with `env` added to this environment; its output
    goes to a temporary file. Stopped by SIGTERM at the end of `with` (SIGKILL after 30 s)."""

    def __init__(self, name, env=None):
        lines = dict(line.split(":", 1) for line in (REPO_ROOT / "Procfile").read_text().splitlines() if line.strip())
        self.command = shlex.split(lines[name])
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.process = None
        with tempfile.NamedTemporaryFile(prefix=f"procfile-{name}-", suffix=".log", delete=False) as log:
            self.log_path = Path(log.name)

    def start(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(self.command, cwd=REPO_ROOT, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        return self

    def output(self):
        return self.log_path.read_text(errors="replace")

    def stop(self):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()
        self.log_path.unlink(missing_ok=True)


def vm_rss_kib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class InThread:
    """A context manager that runs `self.run()` in a thread of this process from the start of `with`
    to its end, where `self.stop()` ends it; a subclass defines both."""

    def __init__(self, daemon=True):
        self._thread = threading.Thread(target=self.run, daemon=daemon)

    def run(self):
        raise NotImplementedError

    def stop(self):
        raise NotImplementedError

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()


class HttpReceiver(InThread):
    """An HTTP/1.1 server on 127.0.0.1, on a free port (`url`), serving while `with` lasts, each
    request in a daemon thread of its own. Every POST goes to `self.handle(handler)` (a
    BaseHTTPRequestHandler) that a subclass defines; nothing is logged."""

    def __init__(self):
        super().__init__()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                receiver.handle(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def handle(self, handler):
        raise NotImplementedError

    def run(self):
        self.server.serve_forever(poll_interval=0.05)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
