"""How an API view uses the database: the schema brought up to date first, one more try on a
fresh connection when the connection was lost, and the connection given back once the response
is built."""
import functools
import logging

from .faults import DATABASE_ERRORS, CommitOutcomeUnknown, connection_lost, first_line
from .handle import ServicePostgresqlDatabase, database, discard_connection, release_connection
from .migrate import ensure_schema
from .server_prepared import PreparedStatementsLost

logger = logging.getLogger(__name__)


def run_view(view):
    """Wrap an API view so that the schema is brought up to date first (once per process), and a
    view whose connection was lost runs once more on a fresh connection, unless a COMMIT was under
    way or done (the write may have happened: the error, a 503, tells the client so) or no
    connection could be opened at all (the database is down: the 503 should not wait twice)."""

    @functools.wraps(view)
    def run(*args, **kwargs):
        try:
            return _run_retrying_once(view, args, kwargs)
        finally:
            release_connection()  # the response is built: the request needs no connection after

    return run


def _run_retrying_once(view, args, kwargs):
    ensure_schema()
    db = database.obj
    commits_before = db.commits() if isinstance(db, ServicePostgresqlDatabase) else 0
    try:
        return view(*args, **kwargs)
    except DATABASE_ERRORS as error:
        committed = isinstance(db, ServicePostgresqlDatabase) and db.commits() != commits_before
        if isinstance(error, PreparedStatementsLost) and not committed:
            return view(*args, **kwargs)  # unprepared now (server_prepared.py); its transaction was rolled back
        if (not connection_lost(error) or isinstance(error, CommitOutcomeUnknown) or committed
                or getattr(error, "while_connecting", False)):
            raise
        logger.warning("database connection lost; running the request once more on a fresh one: %s",
                       first_line(error))
        discard_connection(all_idle=True)
    return view(*args, **kwargs)
