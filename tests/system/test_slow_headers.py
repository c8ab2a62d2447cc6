"""Clients that trickle their request headers, against an instance started with the defaults of
gunicorn.conf.py: it keeps answering others, and closes each trickler once its head has taken
REQUEST_HEADER_TIMEOUT_S (10 s) from its first byte, however steadily it trickles."""
import selectors
import socket
import time

import pytest
import requests
from servers import Gunicorn

pytestmark = pytest.mark.slow

TRICKLERS = 64
SILENT = 16
HEADER_DEADLINE_S = 10  # REQUEST_HEADER_TIMEOUT_S's default
LINE_EVERY_S = 2
MENTORS = "/api/v1/mentor-statuses"


class Tricklers:
    """Connections that send a request line at once, then a header line every LINE_EVERY_S, and
    never the blank line that ends the head. One selector for them all."""

    def __init__(self, port, count):
        self.selector = selectors.DefaultSelector()
        self.started, self.ended, self.answers = {}, {}, {}
        for n in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(f"GET {MENTORS}/fast-1 HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())
            self.started[sock] = time.monotonic()
            self.answers[sock] = b""
            sock.setblocking(False)
            self.selector.register(sock, selectors.EVENT_READ)
        self.lines = 0
        self._next_line = time.monotonic() + LINE_EVERY_S

    def open(self):
        return [sock for sock in self.started if sock not in self.ended]

    def step(self, timeout):
        """Read what the server sent (an answer, a close) and send the lines that are due."""
        for key, _ in self.selector.select(timeout):
            sock = key.fileobj
            try:
                data = sock.recv(4096)
            except BlockingIOError:
                continue
            except OSError:  # reset: closed by the server
                data = b""
            if data:
                self.answers[sock] += data
            else:
                self._end(sock)
        if time.monotonic() >= self._next_line:
            self.lines += 1
            for sock in self.open():
                try:
                    sock.sendall(f"X-Trickle-{self.lines}: {'y' * 20}\r\n".encode())
                except OSError:
                    self._end(sock)
            self._next_line += LINE_EVERY_S

    def _end(self, sock):
        self.ended[sock] = time.monotonic()
        self.selector.unregister(sock)
        sock.close()

    def lifetimes(self):
        return [self.ended[sock] - self.started[sock] for sock in self.ended]

    def close(self):
        for sock in self.open():
            self.selector.unregister(sock)
            sock.close()
        self.selector.close()


def timed_get(url):
    started = time.monotonic()
    try:
        status = requests.get(url, timeout=5).status_code
    except requests.RequestException as error:
        status = type(error).__name__
    return status, time.monotonic() - started


def test_sixty_four_trickled_heads_leave_health_and_reads_fast_and_each_is_closed_at_its_deadline(tmp_path):
    with Gunicorn(f"sqlite:///{tmp_path}/heads.db", workers=None) as server:
        base = server.base_url
        assert requests.post(base + MENTORS, json={"mentor_id": "fast-1"}, timeout=5).status_code == 201
        silent = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(SILENT)]
        tricklers = Tricklers(server.port, TRICKLERS)
        first_byte = min(tricklers.started.values())
        timings = []
        try:
            while tricklers.open() and time.monotonic() - first_byte < HEADER_DEADLINE_S + 15:
                tricklers.step(timeout=0.25)
                if time.monotonic() - first_byte < HEADER_DEADLINE_S - 1:  # while every trickler is connected
                    for path in ("/healthz", f"{MENTORS}/fast-1"):
                        timings.append((path, *timed_get(base + path)))
            left_open = len(tricklers.open())
            # A connection that has sent nothing is not a slow head: it waits for the keep-alive timeout.
            still_silent = sum(1 for sock in silent if _still_open(sock))
            after = timed_get(base + "/healthz")
        finally:
            tricklers.close()
            for sock in silent:
                sock.close()

    lifetimes = tricklers.lifetimes()
    answers = {answer.split(b"\r\n", 1)[0] for answer in tricklers.answers.values()}
    print(f"\nslow heads: {len(timings)} requests while {TRICKLERS} tricklers were connected, slowest "
          f"{max((took for *_, took in timings), default=0):.3f} s; tricklers closed "
          f"{min(lifetimes, default=0):.1f}-{max(lifetimes, default=0):.1f} s "
          f"after their first byte, having sent {tricklers.lines} header lines; answers {sorted(answers)}")
    assert timings and all(status == 200 and took < 1 for _, status, took in timings), timings
    assert left_open == 0, f"{left_open} tricklers still open {HEADER_DEADLINE_S + 15} s after their first byte"
    assert all(HEADER_DEADLINE_S - 1 < took < HEADER_DEADLINE_S + 3 for took in lifetimes), sorted(lifetimes)
    assert tricklers.lines >= HEADER_DEADLINE_S // LINE_EVERY_S - 1  # they kept trickling to the end
    for answer in tricklers.answers.values():
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer
        if answer:
            assert b"Content-Type: application/json\r\n" in answer
            assert answer.endswith(b'{"code": 408, "status": "Request Timeout", '
                                   b'"message": "The request headers did not arrive in time."}'), answer
    assert still_silent == SILENT
    assert after[0] == 200 and after[1] < 1, after


def _still_open(sock):
    sock.setblocking(False)
    try:
        return sock.recv(1) != b""  # nothing to read: BlockingIOError
    except BlockingIOError:
        return True
    except OSError:
        return False
