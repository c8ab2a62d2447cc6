"""gunicorn's gthread worker, with deadlines on request heads and bodies and JSON for the errors it answers itself.

Stock gthread hands a connection to a pool thread, which reads the request line and headers on a
blocking socket with no deadline: a client that trickles a header line every few seconds holds the
thread for as long as it likes, and a few dozen such clients stop the instance. (A socket timeout
would not help: it restarts with every byte.) Here a pool thread only takes the bytes that have
already arrived, without blocking; while the head is incomplete the connection goes back to the
worker's selector, holding no thread, until its deadline (`header_timeout_s` from the head's first
byte) passes: then it gets a 408 and is shut down at once, without gthread's graceful close, which
would wait for the client. A connection that sends nothing waits on the selector as in stock
gthread and is closed by the keep-alive timeout.

Bodies the same way: a body announced by Content-Length, up to `body_buffer_bytes` (the app's own
limit), is gathered on the selector too, within `body_timeout_s` of the head's end, and a pool
thread runs the request only once all of it has arrived, so a client trickling its body holds no
thread either (a 408 at the deadline, as the app's BodyDeadline answers). A chunked body, one
larger than that, or one sent after `Expect: 100-continue` is read by the pool thread as in stock
gthread, within the app's deadline (server/request_bodies.py).

The errors gunicorn answers before the app runs (400 malformed request, 414 request line too long,
431 headers too large or too many, ...) are written by `gunicorn.util.write_error`, which
`Worker.handle_error` looks up at call time: the worker process replaces it with a JSON writer.

Private gunicorn internals this relies on (gunicorn is pinned at 27.0.1 for it;
tests/system/test_gunicorn_worker.py and tests/system/test_slow_headers.py fail if an upgrade changes them):

- `ThreadWorker.handle(conn)` runs in a pool thread and returns `gthread._DEFER`, True (keep alive) or
  False; it calls `handle_request(req, conn)`, which passes `conn.sock` to `wsgi.create` and lets an
  OSError from a write through (StopIteration ends the connection quietly); `finish_request(conn,
  future)` runs on the main thread with the result; `enqueue_req`, `poller`, `nr_conns`,
  `murder_pending()` (called on every turn of the main loop), `alive`;
- `TConn`: `init()` (once it has run, gthread's `handle` no longer waits for a first byte),
  `is_http2`, `parser`, `sock`, `client`;
- `conn.parser.unreader` (`take_buffered()`, `unread()`) and `parser.req_count`, and that
  `gunicorn.http.message.Request(cfg, unreader, peer_addr, req_number)` parses a head from an unreader,
  its `body.reader` a `gunicorn.http.body.LengthReader` (`length`) for a body of known length;
- that gthread's graceful stop still polls and calls `murder_pending` while connections remain;
- `gunicorn.util.write_error(sock, status_int, reason, mesg)`, called from `Worker.handle_error`;
- `gunicorn.http.wsgi.Response.default_headers()`, a list of header lines one of which is `Server: gunicorn`
  (no setting turns it off): the worker process drops that line, so no response names the software.
"""
import heapq
import itertools
import selectors
import time
from functools import partial

from gunicorn import util
from gunicorn.http import wsgi
from gunicorn.workers import gthread

from .raw_http import (
    buffered_body_length,
    check_partial_head,
    close_now,
    parsed_body_length,
    receive,
    without_server_header,
    write_json_error,
)

# Results of `handle` besides gthread's own.
_PENDING = object()  # head or body incomplete: wait on the selector for more
_CLOSED = object()  # the thread has closed the connection itself


class DeadlineWorker(gthread.ThreadWorker):
    header_timeout_s = 10  # gunicorn.conf.py sets it from REQUEST_HEADER_TIMEOUT_S
    body_timeout_s = 10  # gunicorn.conf.py sets it from REQUEST_BODY_TIMEOUT_S
    body_buffer_bytes = 64 * 1024  # gunicorn.conf.py sets it from the app's MAX_CONTENT_LENGTH
    send_timeout_s = 30  # gunicorn.conf.py sets it from SEND_TIMEOUT_S

    def init_process(self):
        self._deadlines = []  # heap of (deadline, n, conn) of connections waiting for their head or body
        self._order = itertools.count()
        util.write_error = write_json_error  # this worker process only; see the module docstring
        wsgi.Response.default_headers = without_server_header(wsgi.Response.default_headers)
        super().init_process()

    # In a pool thread

    def handle(self, conn):
        try:
            conn.init()  # the parser, whose unreader holds what has arrived of the head so far
            if conn.is_http2:
                return super().handle(conn)
            state = self._gather_head(conn)
            if state is None:
                state = self._gather_body(conn)
        except Exception as error:  # noqa: BLE001  a head gunicorn's parser refuses: 400, 414, 431, ...
            if not isinstance(error, OSError):
                self.handle_error(None, conn.sock, conn.client, error)
            close_now(conn.sock)
            return _CLOSED
        if state is not None:
            return state
        result = super().handle(conn)  # parses the buffered head: no read of the socket before the body
        if getattr(conn, "abandoned", False):
            return _CLOSED
        if result is False:
            # Closing gracefully lingers up to 2 s for the client: here, not on the main loop.
            conn.close(graceful=True)
            return _CLOSED
        return result

    def handle_request(self, req, conn):
        """gthread's, with a send timeout: a response none of whose bytes can be sent for
        `send_timeout_s` (a client that stopped reading) is abandoned, its connection closed at
        once, and the thread freed. The app's response iterator is closed as for any response."""
        sock = conn.sock
        sock.settimeout(self.send_timeout_s)
        conn.sock = SendTimeoutSocket(sock)
        try:
            return super().handle_request(req, conn)
        except TimeoutError:
            self.log.warning("response to ip=%s abandoned: nothing could be sent for %ss", _ip(conn.client),
                             self.send_timeout_s)
            conn.abandoned = True
            close_now(sock)
            raise StopIteration() from None  # gthread's way to end a connection quietly
        finally:
            conn.sock = sock

    def _gather_head(self, conn):
        """None once a whole head is buffered; else what `handle` should return."""
        unreader = conn.parser.unreader
        data, ended = unreader.take_buffered(), False
        try:
            data, ended = receive(conn.sock, data, lambda data: b"\r\n\r\n" in data or len(data) > self._max_head())
        finally:
            unreader.unread(data)
        if b"\r\n\r\n" in data:
            conn.head_deadline = None  # the next request on this connection gets a deadline of its own
            return None
        if not data:
            if ended:
                close_now(conn.sock)
                return _CLOSED
            return gthread._DEFER  # nothing yet: gthread waits up to the keep-alive timeout
        if ended:  # the client gave up mid-head
            close_now(conn.sock)
            return _CLOSED
        if getattr(conn, "head_deadline", None) is None:
            conn.head_deadline = time.monotonic() + self.header_timeout_s
        check_partial_head(self.cfg, data, conn.client, conn.parser.req_count + 1, self._max_head())
        return self._wait(conn, conn.head_deadline, "head")

    def _gather_body(self, conn):
        """With a whole head buffered: None once the body it announces is buffered too (or when this
        body is left to the pool thread); else what `handle` should return."""
        unreader = conn.parser.unreader
        data, ended = unreader.take_buffered(), False
        try:
            head_end = data.index(b"\r\n\r\n") + 4
            length = buffered_body_length(data[:head_end], self.body_buffer_bytes)
            if length is None or len(data) >= head_end + length:
                return self._body_done(conn)
            data, ended = receive(conn.sock, data, lambda data: len(data) >= head_end + length)
        finally:
            unreader.unread(data)
        if len(data) >= head_end + length:
            return self._body_done(conn)
        if ended:  # the client gave up mid-body
            close_now(conn.sock)
            return _CLOSED
        if getattr(conn, "body_deadline", None) is None:
            # Before waiting, gunicorn's own parse of the head: a head it refuses gets its 400 now, not a
            # 408 at the deadline, and the length waited for is the one it will read.
            if parsed_body_length(self.cfg, data[:head_end], conn.client, conn.parser.req_count + 1) != length:
                return self._body_done(conn)  # left to the pool thread
            conn.body_deadline = time.monotonic() + self.body_timeout_s
        return self._wait(conn, conn.body_deadline, "body")

    @staticmethod
    def _body_done(conn):
        conn.body_deadline = None  # the next request's body gets a deadline of its own
        return None

    def _wait(self, conn, deadline, part):
        """Wait on the selector for more of the request's `part` ("head" or "body"), or refuse it
        with a 408 once `deadline` has passed."""
        if time.monotonic() >= deadline:
            self.refuse_slow(conn, part)
            return _CLOSED
        conn.deadline, conn.waiting_part = deadline, part
        return _PENDING

    def _max_head(self):
        """The most a head may hold: gunicorn's own bounds on the request line and the header block."""
        cfg = self.cfg
        return cfg.limit_request_line + 2 + cfg.limit_request_fields * (cfg.limit_request_field_size + 2) + 4

    def refuse_slow(self, conn, part):
        """A 408 for a request whose `part` ("head" or "body") did not arrive in time, and the
        connection closed at once."""
        timeout_s = self.header_timeout_s if part == "head" else self.body_timeout_s
        self.log.warning("request %s from ip=%s not complete after %ss: 408", part, _ip(conn.client), timeout_s)
        try:
            conn.sock.setblocking(False)
            late = None if part == "head" else f"The request body did not arrive within {timeout_s} s."
            write_json_error(conn.sock, 408, "Request Timeout", "", message=late)
        except OSError:
            pass
        close_now(conn.sock)

    # On the main thread

    def finish_request(self, conn, fs):
        result = fs.result() if not fs.cancelled() and fs.exception() is None else None
        if result is _CLOSED:
            self.nr_conns -= 1
        elif result is _PENDING and (self.alive or conn.waiting_part == "body"):
            # While the worker stops, a body on its way is still awaited (gthread's graceful loop
            # polls and runs murder_pending), as a pool thread reading it would have been.
            conn.sock.setblocking(False)
            conn.waiting = True
            heapq.heappush(self._deadlines, (conn.deadline, next(self._order), conn))
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_readable, conn))
        elif result is _PENDING or (result is gthread._DEFER and not self.alive):
            self.nr_conns -= 1
            close_now(conn.sock)
        else:
            super().finish_request(conn, fs)

    def on_readable(self, conn, _sock):
        self.poller.unregister(conn.sock)
        conn.waiting = False
        self.enqueue_req(conn)

    def murder_pending(self):
        super().murder_pending()
        now = time.monotonic()
        while self._deadlines and self._deadlines[0][0] <= now:
            deadline, _, conn = heapq.heappop(self._deadlines)
            if not conn.waiting or conn.deadline != deadline:
                continue  # a pool thread has it (and checks the deadline), or it is an earlier wait's
            conn.waiting = False
            try:
                self.poller.unregister(conn.sock)
            except (OSError, KeyError, ValueError):
                pass
            self.nr_conns -= 1
            self.refuse_slow(conn, conn.waiting_part)


class SendTimeoutSocket:
    """A socket whose `sendall` fails with TimeoutError only when no byte at all could be sent for
    the socket's timeout (the standard `sendall` bounds the whole call, which a client reading a
    large body steadily but slowly could take longer than)."""

    def __init__(self, sock):
        self._sock = sock

    def sendall(self, data):
        view = memoryview(data)
        while view:
            view = view[self._sock.send(view):]  # waits at most the timeout for room, then sends what fits

    def __getattr__(self, name):
        return getattr(self._sock, name)


def _ip(client):
    return client[0] if isinstance(client, tuple) else client
