"""Request bodies read whole, within a deadline, before the app sees them.

A client that sends its headers and then trickles its body would hold a worker thread for as long
as it likes: a socket timeout restarts with every byte, and a read of the body's length waits for
all of it. So each body gets a deadline, and a watchdog thread shuts the socket's reading side
when it passes: the blocked read returns, and the client gets a 408 and a closed connection.
"""
import heapq
import io
import itertools
import json
import logging
import socket
import threading
import time

from ..web.headers import API_CACHE_CONTROL

logger = logging.getLogger(__name__)


class BodyDeadline:
    """WSGI middleware: the body, complete within `timeout_s` of the request reaching the app, or a
    408. It reads at most `limit + 1` bytes (on a path of `limits_by_path`, that path's limit + 1),
    so that the app still answers a larger body with 413."""

    def __init__(self, app, limit, timeout_s, limits_by_path=None):
        self.app = app
        self.limit = limit
        self.limits_by_path = limits_by_path or {}
        self.timeout_s = timeout_s
        self.watchdog = Watchdog()

    def __call__(self, environ, start_response):
        length = environ.get("CONTENT_LENGTH", "")
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        limit = self.limits_by_path.get(environ.get("PATH_INFO"), self.limit)
        if not chunked and (not length.isdigit() or int(length) == 0 or int(length) > limit):
            return self.app(environ, start_response)  # no body, or one the app refuses unread
        wanted = limit + 1 if chunked else int(length)
        body, expired = self._read(environ, wanted)
        if expired:
            logger.warning("request body not complete after %ss: 408", self.timeout_s)
            payload = json.dumps({"code": 408, "status": "Request Timeout",
                                  "message": f"The request body did not arrive within {self.timeout_s} s."})
            start_response("408 Request Timeout", [("Content-Type", "application/json"), ("Connection", "close"),
                                                   ("X-Content-Type-Options", "nosniff"),
                                                   ("Cache-Control", API_CACHE_CONTROL)])
            return [payload.encode()]
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.app(environ, start_response)

    def _read(self, environ, wanted):
        """Up to `wanted` bytes of the body, and whether the deadline cut the read short."""
        sock = environ.get("gunicorn.socket")
        ticket = self.watchdog.watch(sock, time.monotonic() + self.timeout_s) if sock is not None else None
        try:
            body = environ["wsgi.input"].read(wanted)
        except (OSError, ValueError, EOFError) as error:  # the read side shut, mid-chunk; or a broken client
            logger.debug("reading the request body failed", exc_info=error)
            body = b""
        finally:
            expired = ticket is not None and not self.watchdog.forget(ticket)
        return body, expired


class Watchdog:
    """One thread per process that shuts the reading side of sockets whose deadline has passed."""

    def __init__(self):
        self._lock = threading.Condition()
        self._deadlines = []  # heap of (deadline, ticket)
        self._sockets = {}  # ticket: socket, while it is watched
        self._tickets = itertools.count()
        self._thread = None

    def watch(self, sock, deadline):
        with self._lock:
            ticket = next(self._tickets)
            self._sockets[ticket] = sock
            heapq.heappush(self._deadlines, (deadline, ticket))
            if self._thread is None:  # started in the process that serves, after any fork
                self._thread = threading.Thread(target=self._run, name="body-deadline", daemon=True)
                self._thread.start()
            elif self._deadlines[0][1] == ticket:  # deadlines only grow: the thread is idle
                self._lock.notify()
        return ticket

    def forget(self, ticket):
        """Stop watching; False if the deadline had already passed and the socket was shut."""
        with self._lock:
            return self._sockets.pop(ticket, None) is not None

    def _run(self):
        while True:
            with self._lock:
                while self._deadlines and self._deadlines[0][1] not in self._sockets:
                    heapq.heappop(self._deadlines)  # already forgotten
                wait = self._deadlines[0][0] - time.monotonic() if self._deadlines else None
                if wait is None or wait > 0:
                    self._lock.wait(wait)
                    continue
                _, ticket = heapq.heappop(self._deadlines)
                sock = self._sockets.pop(ticket)
            try:
                sock.shutdown(socket.SHUT_RD)
            except OSError:  # the client went away meanwhile
                pass
