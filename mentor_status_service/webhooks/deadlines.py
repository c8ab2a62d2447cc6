"""A deadline on every webhook attempt, from connecting to the last byte of the answer.

urllib3's timeouts apply to each connect and each read: a receiver that answers its headers and then
drips one byte a second, or drips the headers themselves, keeps a request for as long as it likes.
So each attempt gets a deadline, and a watchdog thread (request_bodies.Watchdog, as for request
bodies) shuts down the attempt's sockets when it passes: the blocked read returns at once, and the
attempt ends as timed out. The sockets are known to the attempt through the connection classes
below, which report every socket they make (before any TLS handshake, which could drip too) and
every socket they send a request on (a kept-alive one), to the attempt running in their thread.
"""
import socket
import threading
import time
from contextlib import contextmanager

from urllib3.connection import HTTPConnection, HTTPSConnection

from ..server.request_bodies import Watchdog

_watchdog = Watchdog()  # its thread starts with the first attempt, in the process that delivers
_running = threading.local()  # .attempt: the Attempt of this thread's request in flight


class Attempt:
    """The sockets of one attempt; `cut` once its deadline passed and they were shut down."""

    def __init__(self):
        self.cut = False
        self._sockets = []
        self._lock = threading.Lock()

    def add(self, sock):
        with self._lock:
            self._sockets.append(sock)
            cut = self.cut
        if cut:  # made after the deadline: no use either
            _shut_down(sock)

    def shutdown(self, _how):
        """The watchdog's call at the deadline (it calls `shutdown` on what it watches)."""
        with self._lock:
            self.cut = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut_down(sock)


def _shut_down(sock):
    try:
        # socket.socket's own: on a TLS socket it shuts the connection under the TLS layer, which
        # the thread blocked in a read is still using.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:  # closed meanwhile
        pass


@contextmanager
def deadline(seconds):
    """Run an attempt (in this thread) whose sockets are shut down `seconds` from now; yields its
    Attempt, whose `cut` tells afterwards whether the deadline passed."""
    attempt = Attempt()
    ticket = _watchdog.watch(attempt, time.monotonic() + seconds)
    _running.attempt = attempt
    try:
        yield attempt
    finally:
        _running.attempt = None
        if not _watchdog.forget(ticket):
            attempt.cut = True  # the watchdog has it (it may not have shut the sockets yet)


def _report(sock):
    attempt = getattr(_running, "attempt", None)
    if attempt is not None and sock is not None:
        attempt.add(sock)


class _Watched:
    def _new_conn(self):
        sock = super()._new_conn()
        _report(sock)
        return sock

    def request(self, *args, **kwargs):
        _report(self.sock)  # a kept-alive connection: already connected
        return super().request(*args, **kwargs)


class WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass
