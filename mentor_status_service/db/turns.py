"""SQLite's writers in fair turns: the threads of a process, then the processes of an instance."""
import collections
import fcntl
import os
import threading
import time


class FairTurns:
    """A lock whose waiters get it in the order they asked, each handed it directly by the one
    before: no waiter is passed over, and none polls."""

    def __init__(self):
        self._mutex = threading.Lock()
        self._held = False
        self._waiters = collections.deque()

    def acquire(self, timeout):
        with self._mutex:
            if not self._held:
                self._held = True
                return True
            waiter = threading.Lock()
            waiter.acquire()
            self._waiters.append(waiter)
        if waiter.acquire(timeout=timeout):
            return True
        with self._mutex:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
                return False
        return True  # handed the turn just as the wait ran out

    def release(self):
        with self._mutex:
            if self._waiters:
                self._waiters.popleft().release()  # the turn passes on, never free in between
            else:
                self._held = False


class ProcessTurns:
    """The write turn between the processes of one instance: an exclusive `flock` on a file beside
    the database, taken by one thread of a process at a time. Polled every millisecond, where
    SQLite's own busy handler sleeps up to 100 ms between tries, so a waiting process gets its
    turn as soon as it is free."""

    POLL_S = 0.001

    def __init__(self, path):
        self._path = path
        self._fd = None
        self._pid = None

    def acquire(self, timeout):
        deadline = time.monotonic() + timeout
        fd = self._file()
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(self.POLL_S)

    def release(self):
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _file(self):
        if self._pid != os.getpid():  # a forked worker opens its own: a flock is shared across fork
            self._fd, self._pid = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600), os.getpid()
        return self._fd
