"""An erased mentor gone from the files too: on SQLite, the WAL checkpointed and truncated once an
erasure commits (deleted rows are zeroed by secure_delete, and must not linger in the WAL)."""
import logging
import threading

from .faults import DATABASE_ERRORS
from .handle import database, is_postgresql

logger = logging.getLogger(__name__)


def checkpoint_after_erasure():
    """After an erasure commits, on SQLite: copy the WAL into the database file and truncate it, so
    that the erased rows (zeroed by secure_delete) linger in neither file. Never fails the request
    whose erasure already committed; PostgreSQL needs nothing here (VACUUM reclaims dead rows)."""
    if is_postgresql():
        return
    if database.in_transaction():
        # Within an outer transaction (a write kept with its Idempotency-Key): once it commits.
        _erasures.pending = True
        return
    try:
        busy, _, _ = database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except DATABASE_ERRORS as error:
        logger.warning("WAL checkpoint after an erasure failed: %s", error)
        return
    if busy:  # a reader held on to the WAL: a later checkpoint finishes the job
        logger.warning("WAL checkpoint after an erasure could not complete: the database is busy")


_erasures = threading.local()  # pending: an erasure committed by an outer transaction awaits its checkpoint


def checkpoint_pending_erasure():
    """After an outer transaction commits: the checkpoint an erasure within it put off."""
    if getattr(_erasures, "pending", False):
        _erasures.pending = False
        checkpoint_after_erasure()
