"""Clients that request an export and stop reading, against an instance started with the defaults
of gunicorn.conf.py: health and reads keep answering within a second, at most EXPORTS_PER_WORKER
exports stream at once in a worker (beyond: 503 with Retry-After), a worker's memory grows by at
most 20 MiB per export streaming in it whatever the rows' size, and a response none of whose bytes
can be sent for SEND_TIMEOUT_S is abandoned, its thread and slot freed."""
import socket
import threading
import time

import pytest
import requests
from servers import Gunicorn, wait_until

from mentor_status_service import create_app
from mentor_status_service.db import database, migrate

pytestmark = pytest.mark.slow

STALLED = 48
EXPORTS_PER_WORKER = 4  # the default
EXPORT = "/api/v1/mentor-statuses?format=csv"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def big_rows_database(tmp_path_factory):
    """660 mentors with 15 KB of metadata each: a CSV export of about 10 MB."""
    url = f"sqlite:///{tmp_path_factory.mktemp('stalled')}/big.db"
    client = create_app({"DATABASE_URL": url, "TESTING": True}).test_client()
    migrate()
    for number in range(660):
        response = client.post("/api/v1/mentor-statuses", json={
            "mentor_id": f"mentor-{number:04d}", "metadata": {"notes": f"{number} " + "x" * 15000}})
        assert response.status_code == 201, response.json
    database.close_all()
    return url


class StalledReader:
    """GET the export with a small receive buffer, read 1 KB of the answer, then read nothing."""

    def __init__(self, port):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(30)
        self.sock.connect(("127.0.0.1", port))
        self.sock.sendall(f"GET {EXPORT} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        self.first = self.sock.recv(1024).decode("latin-1")

    @property
    def status(self):
        return int(self.first.split(" ", 2)[1])

    def drain(self):
        """Everything the server still sends, until it closes the connection or stops for 5 s."""
        self.sock.settimeout(5)
        total = 0
        try:
            while chunk := self.sock.recv(1 << 20):
                total += len(chunk)
        except OSError:
            pass
        return total

    def close(self):
        self.sock.close()


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def probe(base, timings, stop):
    while not stop.is_set():
        for path in ("/healthz", "/api/v1/mentor-statuses/mentor-0001", "/api/v1/mentor-statuses?limit=5"):
            started = time.monotonic()
            try:
                status = requests.get(base + path, timeout=10).status_code
            except requests.RequestException as error:  # no answer at all: the instance is stopped
                status = type(error).__name__
            timings.append((path, status, time.monotonic() - started))
        stop.wait(0.3)


def test_48_stalled_readers_leave_health_and_reads_fast_bounded_exports_and_bounded_memory(big_rows_database):
    with Gunicorn(big_rows_database, workers=None) as server:
        whole = requests.get(server.base_url + EXPORT, timeout=60)  # every worker has run an export once
        assert whole.status_code == 200 and len(whole.content) > 9_000_000
        for _ in range(8):
            requests.get(server.base_url + EXPORT, timeout=60).close()
        workers = server.worker_pids()
        before = {pid: rss_bytes(pid) for pid in workers}

        timings, stop = [], threading.Event()
        prober = threading.Thread(target=probe, args=(server.base_url, timings, stop), daemon=True)
        prober.start()
        readers = [StalledReader(server.port) for _ in range(STALLED)]
        peak = dict(before)
        for _ in range(20):  # 6 s of 48 stalled readers
            for pid in workers:
                peak[pid] = max(peak[pid], rss_bytes(pid))
            time.sleep(0.3)
        stop.set()
        prober.join(15)
        statuses = [reader.status for reader in readers]
        busy = [reader for reader in readers if reader.status == 503]
        for reader in readers:
            reader.close()

    assert all(status == 200 and took < 1 for _, status, took in timings), [t for t in timings if t[2] >= 1]
    assert len(timings) >= 30
    streaming = statuses.count(200)
    assert 1 <= streaming <= EXPORTS_PER_WORKER * len(workers), statuses
    assert statuses.count(503) == STALLED - streaming, statuses
    assert all("Retry-After:" in reader.first for reader in busy)
    for pid in workers:
        # At most 4 exports stream in a worker: 20 MiB each, at most.
        assert peak[pid] - before[pid] <= EXPORTS_PER_WORKER * 20 * MIB, (pid, (peak[pid] - before[pid]) / MIB)
    print(f"\nstalled readers: {streaming} streaming, {statuses.count(503)} told 503; slowest probe "
          f"{max(took for *_, took in timings):.3f} s; RSS growth MiB "
          f"{[round((peak[pid] - before[pid]) / MIB, 1) for pid in workers]}")


def test_a_response_that_cannot_be_sent_for_send_timeout_s_is_abandoned_and_its_slot_freed(big_rows_database):
    with Gunicorn(big_rows_database, workers=1, env={"SEND_TIMEOUT_S": "2", "EXPORTS_PER_WORKER": "2"}) as server:
        stalled = [StalledReader(server.port) for _ in range(2)]
        assert [reader.status for reader in stalled] == [200, 200]
        assert requests.get(server.base_url + EXPORT, timeout=10).status_code == 503  # both slots taken

        # Once nothing could be sent for 2 s, each stalled response is abandoned and its slot freed.
        wait_until(lambda: requests.get(server.base_url + EXPORT, timeout=30).status_code == 200, 20,
                   interval=0.5, message="a slot freed by an abandoned response")
        # The two buffers fill at different moments: drain only once both have been abandoned, else
        # draining the later one lets its response go on to the end.
        wait_until(lambda: server.output().count("abandoned") >= 2, 20, interval=0.2,
                   message="both stalled responses abandoned")
        received = [reader.drain() for reader in stalled]
        output = server.output()
        for reader in stalled:
            reader.close()

    assert all(total < 9_000_000 for total in received), received  # cut short: never the whole export
    assert output.count("abandoned") >= 2, output
    assert "Traceback" not in output
