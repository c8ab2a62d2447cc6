"""Clients that send their headers and then trickle their bodies, against an instance started with
the defaults of gunicorn.conf.py, and against one with fewer threads than slow clients: it keeps
answering others (a body is gathered on the worker's selector, holding no thread), and ends each
slow body with a 408. A body that arrives in pieces within its deadline is answered once whole."""
import os
import signal
import socket
import threading
import time

import pytest
import requests
from servers import Gunicorn

pytestmark = pytest.mark.slow

SLOW_CLIENTS = 16
BODY_DEADLINE_S = 10  # REQUEST_BODY_TIMEOUT_S's default
MENTORS = "/api/v1/mentor-statuses"


class SlowBodyClient:
    """Sends a complete header block announcing a 200-byte body, then one byte every 2 s."""

    def __init__(self, port, n):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.sendall((f"POST {MENTORS} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                           f"Content-Length: 200\r\n\r\n").encode() + b'{"mentor_id": "slow-' + str(n).encode())
        self.answer = None
        self.ended_after = None
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self):
        try:
            while True:
                self.sock.settimeout(2)
                try:
                    data = self.sock.recv(4096)  # the server answered or closed
                    self.answer = data.decode("latin-1")
                    break
                except TimeoutError:
                    self.sock.sendall(b" ")
        except OSError as error:  # reset: closed by the server
            self.answer = f"closed: {error}"
        self.ended_after = time.monotonic() - self._started

    def join(self, timeout):
        self._thread.join(timeout)
        self.sock.close()


@pytest.mark.parametrize("threads", [None, 2], ids=["default threads", "2 threads a worker"])
def test_sixteen_slow_bodies_leave_health_and_reads_fast_and_each_ends_with_408_or_a_close(tmp_path, threads):
    with Gunicorn(f"sqlite:///{tmp_path}/slow.db", workers=None, threads=threads) as server:
        base = server.base_url
        assert requests.post(base + MENTORS, json={"mentor_id": "fast-1"}, timeout=5).status_code == 201
        clients = [SlowBodyClient(server.port, n) for n in range(SLOW_CLIENTS)]
        time.sleep(1)  # every slow client is now waiting on its body in a server thread

        timings = []
        while time.monotonic() - clients[0]._started < BODY_DEADLINE_S - 2:
            for path in ("/healthz", f"{MENTORS}/fast-1"):
                started = time.monotonic()
                response = requests.get(base + path, timeout=5)
                timings.append((path, response.status_code, time.monotonic() - started))
            written = requests.put(f"{base}{MENTORS}/fast-1", json={"status": "inactive"}, timeout=5)
            assert written.status_code == 200
            time.sleep(0.5)
        for client in clients:
            client.join(timeout=BODY_DEADLINE_S + 10)
        listed = requests.get(base + MENTORS, timeout=5).json()

    assert all(code == 200 and took < 1 for _, code, took in timings), timings
    for client in clients:
        assert client.answer is not None, "a slow client was served forever"
        assert client.answer.startswith("HTTP/1.1 408") or client.answer.startswith("closed") or client.answer == ""
        assert BODY_DEADLINE_S - 1 < client.ended_after < BODY_DEADLINE_S + 5, client.ended_after
    assert [mentor["mentor_id"] for mentor in listed["data"]] == ["fast-1"]
    assert any("The request body did not arrive within 10 s." in client.answer for client in clients)
    print(f"\nslow clients: {len(timings)} requests meanwhile, slowest {max(took for *_, took in timings):.3f} s; "
          f"answers {sorted({client.answer.split(chr(13))[0] for client in clients})}")


def test_a_body_sent_in_pieces_within_its_deadline_is_answered_whole_and_the_next_request_too(tmp_path):
    body = b'{"mentor_id": "mentor-pieces", "status": "paused", "expected_return_date": "2027-01-01T00:00:00Z"}'
    head = (f"POST {MENTORS} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with Gunicorn(f"sqlite:///{tmp_path}/pieces.db", workers=1, threads=1) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(head + body[:10])
            time.sleep(0.5)
            # Meanwhile the only thread serves others: the unfinished body holds none.
            assert requests.get(server.base_url + "/healthz", timeout=2).status_code == 200
            sock.sendall(body[10:40])
            time.sleep(0.5)
            # The rest, and a second request on the same connection right behind it.
            sock.sendall(body[40:] + f"GET {MENTORS}/mentor-pieces HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            answers = received_until(sock, lambda answers: answers.count(b"HTTP/1.1 ") == 2
                                     and answers.rstrip().endswith(b"}"))

    created, read = answers.split(b"HTTP/1.1 ")[1:]
    assert created.startswith(b"201 ") and read.startswith(b"200 ")
    assert b'"mentor_id":"mentor-pieces"' in read.replace(b" ", b"") and b'"status":"paused"' in read.replace(b" ", b"")


def received_until(sock, done):
    """What `sock` received until `done(everything so far)`, or until the server closed it."""
    received = b""
    while not done(received):
        chunk = sock.recv(65536)
        if not chunk:
            break
        received += chunk
    return received


def body_head(body, *extra_headers):
    return (f"POST {MENTORS} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n").encode() + b"".join(h + b"\r\n" for h in extra_headers) + b"\r\n"


@pytest.mark.parametrize("bad_header", [b"Host: elsewhere", b"Content-Type: a\x0bb"],
                         ids=["a second Host", "a control character"])
def test_a_head_gunicorn_refuses_gets_its_400_at_once_though_its_body_is_still_coming(tmp_path, bad_header):
    with Gunicorn(f"sqlite:///{tmp_path}/refused.db", workers=1, threads=1) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
            started = time.monotonic()
            sock.sendall(body_head(b'{"mentor_id": "refused"}', bad_header) + b'{"mentor')
            answer = received_until(sock, lambda answer: answer.rstrip().endswith(b"}"))
            took = time.monotonic() - started

    assert answer.startswith(b"HTTP/1.1 400 "), answer
    assert took < BODY_DEADLINE_S / 2, took  # not the body's 408 at its deadline


def test_a_body_still_arriving_when_its_worker_stops_is_answered(tmp_path):
    body = b'{"mentor_id": "mentor-at-stop"}'
    with Gunicorn(f"sqlite:///{tmp_path}/stop.db", workers=1, threads=1) as server:
        [worker] = server.worker_pids()
        with socket.create_connection(("127.0.0.1", server.port), timeout=15) as sock:
            sock.sendall(body_head(body) + body[:5])
            time.sleep(0.3)
            os.kill(worker, signal.SIGTERM)  # a graceful stop, as at a deploy
            time.sleep(0.3)
            sock.sendall(body[5:15])
            time.sleep(0.3)
            sock.sendall(body[15:])
            answer = received_until(sock, lambda answer: answer.rstrip().endswith(b"}"))

    assert answer.startswith(b"HTTP/1.1 201 "), answer
    assert b"mentor-at-stop" in answer
