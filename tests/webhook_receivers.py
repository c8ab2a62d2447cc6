"""What the webhook tests run for real: HTTP receivers in threads of the test, and the delivery
process started as the Procfile starts it. Only 127.0.0.1 is ever listened on or called."""
import json
import os
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from servers import REPO_ROOT, HttpReceiver, wait_until


class Received:
    """One request a receiver got: its headers, its raw body, and when it began and was answered."""

    def __init__(self, path, headers, body, began):
        self.path, self.headers, self.body, self.began = path, headers, body, began
        self.ended = None

    @property
    def json(self):
        return json.loads(self.body)

    @property
    def change_id(self):
        return self.json["data"]["change_id"]


class Receiver(HttpReceiver):
    """An HTTP server on 127.0.0.1 that records every request and answers as `answer(received)`
    says: a status, or (status, headers), or None to hang up without answering. It notes when two
    requests to the same path were in flight at once (`overlaps`)."""

    def __init__(self, answer=lambda received: 200, delay_s=0.0):
        super().__init__()
        self.answer = answer
        self.delay_s = delay_s
        self.received = []
        self.overlaps = []
        self._in_flight = {}
        self._lock = threading.Lock()

    def handle(self, handler):
        length = int(handler.headers.get("Content-Length", 0))
        body = handler.rfile.read(length)
        if len(body) < length:  # the sender went away mid-request: nothing was received
            handler.close_connection = True
            return
        received = Received(handler.path, {name.lower(): value for name, value in handler.headers.items()}, body,
                            time.monotonic())
        with self._lock:
            if self._in_flight.get(handler.path):
                self.overlaps.append(received)
            self._in_flight[handler.path] = self._in_flight.get(handler.path, 0) + 1
            self.received.append(received)  # before the answer: a sender that got one finds it here
        try:
            if self.delay_s:
                time.sleep(self.delay_s)
            outcome = self.answer(received)
            if outcome is None:
                handler.close_connection = True
                return
            status, headers = outcome if isinstance(outcome, tuple) else (outcome, {})
            handler.send_response(status)
            for name, value in {"Content-Length": "0", **headers}.items():
                handler.send_header(name, value)
            handler.end_headers()
        finally:
            received.ended = time.monotonic()
            with self._lock:
                self._in_flight[handler.path] -= 1

    def of(self, path):
        with self._lock:
            return [received for received in self.received if received.path == path]

    def wait_for(self, count, timeout=30, path=None):
        def enough():
            got = self.of(path) if path else list(self.received)
            return got if len(got) >= count else None

        return wait_until(enough, timeout, interval=0.05, message=f"{count} requests at the receiver")


class DeliveryProcess:
    """`flask --app wsgi webhooks deliver` from the repository root, as the Procfile's worker line
    starts it, in its own process group."""

    def __init__(self, database_url, **env):
        self.env = {**os.environ, "DATABASE_URL": database_url, "WEBHOOK_ALLOW_HTTP": "true",
                    "WEBHOOK_ALLOW_PRIVATE": "true", "WEBHOOK_RETRY_SCHEDULE_S": "0.2,0.2,0.2",
                    "WEBHOOK_TIMEOUT_S": "2", "WEBHOOK_POLL_INTERVAL_MS": "50", "PYTHONUNBUFFERED": "1",
                    **{name: str(value) for name, value in env.items()}}
        self.env.pop("API_WRITE_TOKENS", None)
        self.process = None
        handle, name = tempfile.mkstemp(prefix="webhooks-deliver-", suffix=".log")
        os.close(handle)
        self.log_path = Path(name)

    def start(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(["flask", "--app", "wsgi", "webhooks", "deliver"], cwd=REPO_ROOT,
                                            env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        wait_until(lambda: "started" in self.output() or self.process.poll() is not None, 30,
                   message="the delivery process to start")
        assert self.process.poll() is None, self.output()
        return self

    def output(self):
        return self.log_path.read_text(errors="replace")

    def terminate(self, timeout=20):
        """SIGTERM; returns how long it took to exit."""
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=timeout)
        return time.monotonic() - began

    def kill(self):
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        if self.process is not None and self.process.poll() is None:
            self.kill()
        self.log_path.unlink(missing_ok=True)
