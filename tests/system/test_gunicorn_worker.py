"""The worker class of gunicorn.conf.py over raw sockets: the errors gunicorn answers before the
app runs are the service's JSON, a head is read whole however it arrives, and keep-alive and
pipelining still work (tests/system/test_slow_headers.py has the deadline on slow heads)."""
import json
import re
import socket
import time

import pytest
from servers import Gunicorn

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with Gunicorn(f"sqlite:///{tmp_path_factory.mktemp('worker')}/worker.db", workers=1) as running:
        yield running


def exchange(server, *pieces, pause=0.0, timeout=10):
    """Send `pieces` (pausing between them), then read until the server closes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        for piece in pieces:
            sock.sendall(piece)
            time.sleep(pause)
        received = b""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            received += data
        return received


def parse(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value for name, value in (line.split(": ", 1) for line in lines)}
    return int(status_line.split()[1]), status_line, headers, body


MANY_HEADERS = b"".join(b"X-Many-%d: y\r\n" % n for n in range(101))  # gunicorn's limit: 100


@pytest.mark.parametrize("request_bytes, status, reason", [
    (b"GET /" + b"a" * 4100 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414, "URI Too Long"),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + MANY_HEADERS + b"\r\n", 431, "Request Header Fields Too Large"),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"y" * 8200 + b"\r\n\r\n", 431,
     "Request Header Fields Too Large"),
    (b"NOT A REQUEST LINE\r\n\r\n", 400, "Bad Request"),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n", 400, "Bad Request"),
    (b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 400, "Bad Request"),
    (b"GET /he\x01lthz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "Bad Request"),
    (b"GET /healthz HTTP/1.1\nHost: x\n\n", 400, "Bad Request"),
    (b"GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: nonsense\r\n\r\n", 417, "Expectation Failed"),
], ids=["414-request-line", "431-too-many", "431-too-large", "400-request-line", "400-header",
        "400-version", "400-control-character", "400-bare-lf", "417-expect"])
def test_errors_gunicorn_answers_itself_are_the_services_json(server, request_bytes, status, reason):
    answer = exchange(server, request_bytes)

    code, status_line, headers, body = parse(answer)
    assert (code, status_line) == (status, f"HTTP/1.1 {status} {reason}"), answer[:300]
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    assert int(headers["content-length"]) == len(body)
    document = json.loads(body)
    assert set(document) == {"code", "status", "message"}
    assert document["code"] == status and document["status"] == reason
    assert b"<" not in body and b"a" * 100 not in body  # no HTML, and nothing of what was sent echoed


def test_a_request_line_too_long_is_refused_before_the_line_ends(server):
    """The 414 comes on what has arrived: the client need not finish its line (nor take 10 s)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /" + b"a" * 5000)
        answer = sock.recv(65536)
        took = time.monotonic() - started

    assert answer.startswith(b"HTTP/1.1 414 URI Too Long\r\n") and took < 3, (answer[:100], took)


def test_a_head_in_pieces_is_served_and_pipelined_requests_on_one_connection_are_answered_in_order(server):
    pieces = [b"GET /hea", b"lthz HTTP/1.1\r\nHo", b"st: x\r\n", b"\r", b"\n"]
    answer = exchange(server, *pieces, b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"
                      b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", pause=0.3)

    statuses = re.findall(rb"HTTP/1\.1 \d+ [A-Za-z ]+\r\n", answer)
    assert statuses == [b"HTTP/1.1 200 OK\r\n"] * 3, answer
    assert answer.count(b'{"status":"ok"}') == 2


def test_a_keep_alive_connection_serves_a_second_request_sent_slowly(server):
    """Each request on a connection has a head deadline of its own, from its own first byte."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        first = b""
        while not first.endswith(b'{"status":"ok"}\n'):  # its head and body may come in separate packets
            first += sock.recv(65536)
        for piece in (b"GET /healthz HTTP/1.1\r\n", b"Host: x\r\n", b"Connection: close\r\n", b"\r\n"):
            time.sleep(0.5)
            sock.sendall(piece)
        second = b""
        while data := sock.recv(65536):
            second += data

    assert first.startswith(b"HTTP/1.1 200 OK\r\n") and b"Connection: keep-alive" in first
    assert second.startswith(b"HTTP/1.1 200 OK\r\n") and b"Connection: close" in second


def test_a_client_that_closes_mid_head_costs_nothing(server):
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost:")
    answer = exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")

    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert "Traceback" not in server.output() and "Error handling request" not in server.output()


def test_connections_that_send_nothing_hold_no_thread_and_are_closed_by_the_keep_alive_timeout(tmp_path):
    keepalive_s = 3
    env = {"GUNICORN_THREADS": "2", "GUNICORN_CMD_ARGS": f"--keep-alive {keepalive_s}"}
    with Gunicorn(f"sqlite:///{tmp_path}/silent.db", workers=1, env=env) as small:
        silent = [socket.create_connection(("127.0.0.1", small.port), timeout=10) for _ in range(8)]
        opened = time.monotonic()
        time.sleep(0.5)
        answer = exchange(small, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answered_after = time.monotonic() - opened - 0.5
        closed_after = []
        for sock in silent:
            with sock:
                assert sock.recv(1) == b""  # the server's close
                closed_after.append(time.monotonic() - opened)

    print(f"\nsilent connections: /healthz answered in {answered_after:.3f} s beside 8 of them on 2 threads; "
          f"closed {min(closed_after):.1f}-{max(closed_after):.1f} s after opening (keep-alive {keepalive_s} s)")
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n") and answered_after < 1, answered_after
    assert all(keepalive_s - 0.5 < took < keepalive_s + 3 for took in closed_after), closed_after
