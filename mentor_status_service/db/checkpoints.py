"""SQLite's WAL checkpoints, made by a thread of each process rather than by the write that crosses
SQLite's threshold.

SQLite checkpoints by itself in the COMMIT that takes the WAL past `wal_autocheckpoint` pages (1,000):
that commit copies the WAL into the database file and syncs both files (synchronous=NORMAL syncs
at checkpoints only), milliseconds during which it still holds the write turn (turns.py), so
every write queued behind it waits too. Measured in-process on SQLite, a POST's COMMIT took 77 µs
at the median and 7.3 ms at the 99th percentile. Here every `CHECKPOINT_EVERY`-th commit of a
process wakes that process's checkpointer, which runs `wal_checkpoint(PASSIVE)` on a connection of
its own, outside any turn: writers go on appending to the WAL meanwhile. The same copies and syncs
happen, about as often (a write adds some ten pages to the WAL, and two workers each checkpoint
every 64 of their commits), so what a crash can lose is unchanged. SQLite's own checkpoint stays
as a fallback, at `FALLBACK_AUTOCHECKPOINT` pages, should a checkpointer fall behind.
"""
import logging
import os
import sqlite3
import threading

logger = logging.getLogger(__name__)

CHECKPOINT_EVERY = 64  # commits of one process between its checkpoints
FALLBACK_AUTOCHECKPOINT = 10_000  # pages (about 40 MB of WAL): SQLite checkpoints in a commit only past this


class Checkpointer:
    """Checkpoints the WAL of the SQLite database at `path` from a daemon thread of this process,
    started at the first checkpoint due (a forked worker starts its own)."""

    def __init__(self, path):
        self._path = path
        self._commits = 0
        self._pid = None
        self._due = None
        self._start_lock = threading.Lock()

    def committed(self):
        """A write of this process committed: wake the checkpointer every CHECKPOINT_EVERY of them.
        Two threads may count one commit as one; a checkpoint is then a commit late."""
        self._commits += 1
        if self._commits >= CHECKPOINT_EVERY:
            self._commits = 0
            self._thread_event().set()

    def _thread_event(self):
        if self._pid != os.getpid():
            with self._start_lock:
                if self._pid != os.getpid():
                    self._due = threading.Event()
                    threading.Thread(target=self._run, args=(self._due,), name="wal-checkpoint", daemon=True).start()
                    self._pid = os.getpid()
        return self._due

    def _run(self, due):
        connection = None
        while True:
            due.wait()
            due.clear()
            try:
                if connection is None:
                    connection = sqlite3.connect(self._path, isolation_level=None)
                    connection.execute("PRAGMA synchronous = NORMAL")  # the syncs of a checkpoint, as the service's
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error as error:  # the next one due tries again; SQLite's own fallback meanwhile
                logger.warning("WAL checkpoint failed: %s", error)
                if connection is not None:
                    connection.close()
                    connection = None
