"""What the database's errors mean: a lost connection, a bounded wait that ran out, a full pool, a
commit whose outcome is unknown. No connection is opened here."""
from peewee import InterfaceError, OperationalError

DATABASE_ERRORS = (OperationalError, InterfaceError)


# SQLSTATEs of a wait the service bounded itself: a lock timeout, a statement timeout.
TIMEOUT_SQLSTATES = ("55P03", "57014")


class PoolExhausted(OperationalError):
    """Every connection of this process stayed in use for the whole wait."""


class CommitOutcomeUnknown(OperationalError):
    """The connection was lost while COMMIT was under way: the write may or may not have happened."""


def sqlstate(error):
    """The SQLSTATE psycopg2 gave with a Peewee error ('' when it gave none, None if not from PostgreSQL)."""
    while error is not None and not hasattr(error, "pgcode"):
        error = error.__context__  # Peewee re-raises the driver's exception as its own
    return None if error is None else (error.pgcode or "")


def connection_lost(error):
    """Whether a database error says the connection is gone (or could not be made): the server has
    then rolled back whatever that connection had not committed."""
    if isinstance(error, (InterfaceError, CommitOutcomeUnknown)):
        return True
    code = sqlstate(error)
    # No code: a failed connect or a dropped socket. 08: connection exceptions. 57P: the server
    # shutting down or terminating this backend. 25P03: idle in a transaction for too long.
    return code is not None and (code == "" or code.startswith(("08", "57P")) or code == "25P03")


def is_unavailable(error):
    """Whether a Peewee database error says the database is unreachable or busy: a lost
    connection, a bounded wait that ran out, a full connection pool, a deadlock."""
    if isinstance(error, (InterfaceError, PoolExhausted)) or connection_lost(error):
        return True
    code = sqlstate(error)
    if code is not None:
        # 40: a deadlock or serialization failure, worth a retry.
        return code in TIMEOUT_SQLSTATES or code.startswith("40")
    return any(busy in str(error) for busy in ("database is locked", "unable to open database", "disk I/O error"))


def first_line(error):
    """The first line of a database error's message, or its type when it has none: for a log line."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
