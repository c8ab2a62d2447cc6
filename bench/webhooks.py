"""`python -m bench.webhooks`: webhook delivery against issue 17's targets, on each backend.

- `one_webhook`: entries/s delivered to one webhook whose receiver answers at once (target 300);
- `ten_webhooks_two_processes`: entries/s in all to 10 webhooks with 2 delivery processes (target 1,000);
- `delay`: from a write's response to its arrival at the receiver, while writes come at ~20/s
  (targets p50 < 200 ms, p99 < 2 s);
- `write_latency`: p50/p99 of a POST with no webhook, then with 10 enabled webhooks being delivered.

The receiver is a threaded HTTP server in this process (127.0.0.1 only); the writes go through the
app in this process, the deliveries through `flask --app wsgi webhooks deliver` subprocesses as the
Procfile starts them. PostgreSQL: pass --postgresql-url of a database the run may wipe.
"""
import argparse
import os
import statistics
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import orjson

from mentor_status_service import create_app
from mentor_status_service.db import database, migrate, open_database

from .servers import REPO_ROOT

ADMIN = {"Authorization": "Bearer bench-admin-secret-0123456789"}


class Receiver:
    """Answers 204 at once; records when each (path, change_id) arrived and each mentor's created entry."""

    def __init__(self):
        self.arrived = {}  # path -> count
        self.created_at = {}  # mentor_id -> arrival time (perf_counter)
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                now = time.perf_counter()
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()
                data = orjson.loads(body)["data"]
                with receiver.lock:
                    receiver.arrived[self.path] = receiver.arrived.get(self.path, 0) + 1
                    if data["event"] == "created" and data["resource"] == "mentor_status":
                        receiver.created_at.setdefault(data["id"], now)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self, path):
        with self.lock:
            return self.arrived.get(path, 0)


def deliver_processes(database_url, count, log_dir):
    env = {**os.environ, "DATABASE_URL": database_url, "WEBHOOK_ALLOW_HTTP": "true", "WEBHOOK_ALLOW_PRIVATE": "true",
           "LOG_LEVEL": "WARNING"}
    return [subprocess.Popen(["flask", "--app", "wsgi", "webhooks", "deliver"], cwd=REPO_ROOT, env=env,
                             stdout=open(os.path.join(log_dir, f"deliver-{number}.log"), "ab"),
                             stderr=subprocess.STDOUT) for number in range(count)]


def stop(processes):
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)


def fresh_database(backend, postgresql_url, directory):
    if backend == "sqlite":
        return f"sqlite:///{directory}/bench-webhooks.db"
    db = open_database(postgresql_url)
    tables = [name for (name,) in db.execute_sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    if tables:
        db.execute_sql("DROP TABLE {} CASCADE".format(", ".join(f'"{name}"' for name in tables)))
    db.close()
    return postgresql_url


def post_mentor(client, mentor_id):
    started = time.perf_counter()
    response = client.post("/api/v1/mentor-statuses", json={"mentor_id": mentor_id}, headers=ADMIN)
    assert response.status_code == 201, response.json
    return started, time.perf_counter()


def wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out")
        time.sleep(0.01)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run_backend(backend, database_url, entries, log_dir):
    app = create_app({"DATABASE_URL": database_url, "API_TOKENS": f"bench:admin:{ADMIN['Authorization'][7:]}",
                      "WEBHOOK_ALLOW_HTTP": True, "WEBHOOK_ALLOW_PRIVATE": True, "LOG_LEVEL": "WARNING"})
    migrate()
    client = app.test_client()
    receiver = Receiver()
    results = []

    latencies_without = []
    for number in range(200):  # paced as the writes with webhooks below
        latencies_without.append(post_mentor(client, f"solo-{number:05d}"))
        time.sleep(0.05)
    for number in range(entries):
        post_mentor(client, f"mentor-{number:05d}")

    def webhook(path):
        created = client.post("/api/v1/webhooks", json={"url": receiver.url + path}, headers=ADMIN).json
        client.post(f"/api/v1/webhooks/{created['webhook_id']}/replay", json={"after": 200}, headers=ADMIN)
        return created

    # One webhook, one process.
    processes = deliver_processes(database_url, 1, log_dir)
    time.sleep(1.5)  # started and idle
    began = time.perf_counter()
    one = webhook("/one")
    wait_for(lambda: receiver.count("/one") >= entries, 300)
    results.append((backend, "one_webhook", f"{entries / (time.perf_counter() - began):.0f} entries/s", "≥ 300"))
    client.put(f"/api/v1/webhooks/{one['webhook_id']}", json={"status": "disabled"}, headers=ADMIN)
    stop(processes)

    # Ten webhooks, two processes.
    processes = deliver_processes(database_url, 2, log_dir)
    time.sleep(1.5)
    began = time.perf_counter()
    paths = [f"/ten-{number}" for number in range(10)]
    for path in paths:
        webhook(path)
    wait_for(lambda: all(receiver.count(path) >= entries for path in paths), 600)
    rate = 10 * entries / (time.perf_counter() - began)
    results.append((backend, "ten_webhooks_two_processes", f"{rate:.0f} entries/s", "≥ 1000"))

    # Delay and write latency with the ten webhooks enabled and caught up.
    wait_for(lambda: all(receiver.count(path) >= entries for path in paths), 60)
    responses = {}
    latencies_with = []
    for number in range(200):
        mentor_id = f"late-{number:05d}"
        started, answered = post_mentor(client, mentor_id)
        responses[mentor_id] = answered
        latencies_with.append((started, answered))
        time.sleep(0.05)
    wait_for(lambda: all(mentor_id in receiver.created_at for mentor_id in responses), 60)
    delays = [(receiver.created_at[mentor_id] - answered) * 1000 for mentor_id, answered in responses.items()]
    results.append((backend, "delay", f"p50 {percentile(delays, 0.5):.0f} ms, p99 {percentile(delays, 0.99):.0f} ms",
                    "p50 < 200 ms, p99 < 2000 ms"))
    stop(processes)
    without = [(end - start) * 1000 for start, end in latencies_without]
    with_ = [(end - start) * 1000 for start, end in latencies_with]
    results.append((backend, "write_latency",
                    f"p50 {statistics.median(without):.1f} → {statistics.median(with_):.1f} ms, "
                    f"p99 {percentile(without, 0.99):.1f} → {percentile(with_, 0.99):.1f} ms "
                    "(no webhook → 10 webhooks)", "unchanged"))
    receiver.server.shutdown()
    database.close_all()
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite", help="comma-separated: sqlite,postgresql")
    parser.add_argument("--postgresql-url", default=os.environ.get("BENCH_WEBHOOKS_DATABASE_URL"),
                        help="a PostgreSQL database the run wipes (default $BENCH_WEBHOOKS_DATABASE_URL)")
    parser.add_argument("--entries", type=int, default=3000, help="entries per webhook (default 3000)")
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as directory:
        for backend in args.backends.split(","):
            if backend == "postgresql" and not args.postgresql_url:
                parser.error("postgresql needs --postgresql-url")
            url = fresh_database(backend, args.postgresql_url, directory)
            rows += run_backend(backend, url, args.entries, directory)
    print("| backend | case | result | target |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
