"""PostgreSQL: the tables that folds churn vacuumed by a thread of each process, not left to autovacuum.

Every write inserts delta rows (the list totals', and the database's triggers insert those of the
returns and the spans per day: a status change moves the spans of every pause of its mentor), and
every fold deletes them and updates the kept rows: thousands of dead rows a second under a steady
load of writes. Each total reads its deltas along their index, dead entries included, until VACUUM
removes them. Autovacuum may be off (it is off on the machine these figures come from: docs/benchmarks.md,
"Dead deltas"), and when on it looks at a table once a minute at most (autovacuum_naptime). Here a
fold wakes its process's vacuumer, which runs `VACUUM (SKIP_LOCKED, TRUNCATE FALSE)` on the tables
it names from a connection of its own, opened for it and closed after, at most every
`VACUUM_EVERY_S`: a table another process is vacuuming is skipped, never waited for, and the empty
pages at a table's end are kept for the next deltas (giving them back to the system would take a
lock that every write's delta waits for). A vacuum reclaims the rows of every fold
committed before it, so the dead rows stay those of a few seconds of writes.
"""
import logging
import os
import threading

import psycopg2

from .faults import first_line

logger = logging.getLogger(__name__)

VACUUM_EVERY_S = 2.0


class Vacuumer:
    """Vacuums tables of the PostgreSQL database that `connect()` opens a connection to, from a
    daemon thread of this process started at the first vacuum asked for (a forked worker starts its
    own), until `stop()`."""

    def __init__(self, connect):
        self._connect = connect
        self._tables = set()
        self._pid = None
        self._due = None
        self._stopping = threading.Event()
        self._start_lock = threading.Lock()

    def soon(self, tables):
        """Vacuum `tables` (names) within `VACUUM_EVERY_S`, after the transaction asking commits.
        Never raises into that transaction: a thread that cannot start is logged, and the next fold asks again."""
        self._tables.update(tables)
        due = self._thread_event()
        if due is not None:
            due.set()

    def stop(self):
        """End this process's thread (after the vacuum it may be running); `soon` starts none after."""
        self._stopping.set()
        if self._due is not None:
            self._due.set()

    def _thread_event(self):
        if self._pid != os.getpid() and not self._stopping.is_set():
            with self._start_lock:
                if self._pid != os.getpid():
                    due = threading.Event()
                    try:
                        threading.Thread(target=self._run, args=(due,), name="vacuum", daemon=True).start()
                    except RuntimeError as error:  # no thread to be had: the next fold tries again
                        logger.warning("vacuums: cannot start a thread: %s", error)
                        return None
                    self._due, self._pid = due, os.getpid()
        return self._due

    def _run(self, due):
        while not self._stopping.is_set():
            due.wait()
            # The fold that woke this commits with its write, moments later: its rows go in the next vacuum.
            if self._stopping.wait(VACUUM_EVERY_S):
                return
            due.clear()
            try:
                self.vacuum(sorted(self._tables))
            except Exception:  # the thread must outlive anything a vacuum meets
                logger.exception("vacuums: a vacuum failed")

    def vacuum(self, tables):
        """One VACUUM of `tables`; a failure is logged, and the next fold asks again. No timeout is
        set: the tables are small, SKIP_LOCKED waits for no lock, and a session SET would outlive
        this connection in a transaction-pooling PgBouncer."""
        try:
            connection = self._connect()
        except psycopg2.Error as error:
            logger.warning("vacuum of %s: cannot connect: %s", ", ".join(tables), first_line(error))
            return
        try:
            connection.autocommit = True  # VACUUM runs outside a transaction
            with connection.cursor() as cursor:
                cursor.execute("VACUUM (SKIP_LOCKED, TRUNCATE FALSE) " + ", ".join(f'"{table}"' for table in tables))
            for notice in connection.notices:  # a table not vacuumed, say for want of being its owner
                if "lock not available" not in notice:  # another process is vacuuming it: as designed
                    logger.warning("vacuum of %s: %s", ", ".join(tables), notice.strip())
        except psycopg2.Error as error:
            logger.warning("vacuum of %s failed: %s", ", ".join(tables), first_line(error))
        finally:
            connection.close()


class VacuumsAfterFolds:
    """A mixin of the service's PostgreSQL database (handle.py): a Vacuumer of its own, ended with
    its connections."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._vacuumer = Vacuumer(lambda: psycopg2.connect(database=self.database, **self.connect_params))

    def vacuum_soon(self, tables):
        """Have this process vacuum `tables` shortly, outside the transaction asking."""
        self._vacuumer.soon(tables)

    def close_all(self):
        """Every connection closed, and this process's vacuums ended (a test's app, a job's end)."""
        self._vacuumer.stop()
        super().close_all()


def vacuum_soon(db, tables):
    """On the service's PostgreSQL database, `tables` vacuumed shortly by a thread of this process;
    elsewhere (SQLite, whose DELETE leaves no dead rows to read past; a job's plain database) nothing."""
    if isinstance(db, VacuumsAfterFolds):
        db.vacuum_soon(tables)
