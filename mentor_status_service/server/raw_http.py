"""What the worker (worker.py) reads and writes on a request's socket itself, outside gunicorn's own
request handling: the bytes that have arrived, read without blocking; a head checked by gunicorn's
parser while it is still arriving, and the length of the body it announces; and the answers it
writes itself (JSON errors, no `Server` header), closing at once. The gunicorn internals used here
are listed in worker.py's docstring."""
import json
import socket

from gunicorn import util
from gunicorn.http.body import LengthReader
from gunicorn.http.errors import LimitRequestHeaders
from gunicorn.http.message import Request
from gunicorn.http.unreader import Unreader

_RECV_SIZE = 65536


def receive(sock, data, enough):
    """`data` and what has arrived after it on `sock`, read without blocking until `enough(data)`;
    and whether the client closed its side."""
    sock.setblocking(False)
    try:
        while not enough(data):
            try:
                chunk = sock.recv(_RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                break
            if not chunk:
                return data, True
            data += chunk
    finally:
        sock.setblocking(True)
    return data, False


class _Arrived(Unreader):
    """The bytes that have arrived, and then `_Incomplete` rather than a read of the socket."""

    def __init__(self, data):
        super().__init__()
        self.buf.write(data)

    def chunk(self, size_hint=None):
        raise _Incomplete()


class _Incomplete(Exception):
    pass


def check_partial_head(cfg, data, peer_addr, req_number, max_head):
    """Raise gunicorn's own parse error for what has arrived of a head (a request line that is
    malformed or already too long, a header refused), so that it is answered without waiting for
    the rest; return when nothing is wrong so far."""
    if len(data) > max_head:
        raise LimitRequestHeaders("max buffer headers")
    try:
        Request(cfg, _Arrived(data), peer_addr, req_number)
    except _Incomplete:
        pass


def buffered_body_length(head, most):
    """The length of the body that `head` (a whole request head, bytes) announces, if the worker
    gathers it: one Content-Length of at most `most` bytes, and no Transfer-Encoding or Expect
    (a client that asks to continue waits for an answer before it sends). Else None."""
    lengths, others = [], False
    for line in head.split(b"\r\n")[1:]:
        name, colon, value = line.partition(b":")
        name = name.lower()  # no space may come before the colon: gunicorn refuses such a head
        if colon and name == b"content-length":
            lengths.append(value.strip())
        elif colon and name in (b"transfer-encoding", b"expect"):
            others = True
    if others or len(lengths) != 1 or not lengths[0].isdigit() or len(lengths[0]) > 18 or int(lengths[0]) > most:
        return None  # gunicorn's parser or the app answers these as before
    return int(lengths[0])


def parsed_body_length(cfg, head, peer_addr, req_number):
    """The length gunicorn's parser will read for the body of `head` (a whole head), or None for a
    chunked one; raises gunicorn's own error for a head it refuses (a 400, ... answered at once)."""
    try:
        request = Request(cfg, _Arrived(head), peer_addr, req_number)
    except _Incomplete:  # it wanted more than the head: never seen, but then the thread reads as before
        return None
    return request.body.reader.length if isinstance(request.body.reader, LengthReader) else None


def close_now(sock):
    """Shut down and close, without waiting for the client: a FIN now, whatever it still sends."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    util.close(sock)


# What the client is told, by status: gunicorn's own message would repeat what the client sent.
_MESSAGES = {
    400: "The request line or a header is malformed.",
    403: "The request is forbidden.",
    408: "The request headers did not arrive in time.",
    414: "The request line is too long.",
    417: "The Expect header asks for what this server does not do.",
    431: "The request headers are too large or too many.",
    501: "The request's Transfer-Encoding is not supported.",
}


def without_server_header(default_headers):
    """gunicorn's status line and default headers, without `Server`: naming the software only helps
    whoever looks for servers with a known flaw."""
    def headers(response):
        return [line for line in default_headers(response) if not line.lower().startswith("server:")]
    return headers


def write_json_error(sock, status_int, reason, mesg, message=None):
    """gunicorn's error page as the service's JSON error shape (`mesg` is for the log only)."""
    message = message or _MESSAGES.get(status_int, "The server could not handle the request.")
    body = json.dumps({"code": status_int, "status": reason, "message": message}).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
            f"X-Content-Type-Options: nosniff\r\nContent-Length: {len(body)}\r\n\r\n").encode("latin-1")
    util.write_nonblock(sock, head + body)
