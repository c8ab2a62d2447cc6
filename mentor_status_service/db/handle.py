"""The database handle: how it is opened from a URL, its pool and its timeouts (what its errors mean
is faults.py's)."""
import logging
import threading
import time
from contextlib import contextmanager
from urllib.parse import urlparse

from peewee import DatabaseProxy, OperationalError, PostgresqlDatabase, SqliteDatabase
from playhouse.db_url import parse as parse_database_url
from playhouse.pool import MaxConnectionsExceeded, PooledPostgresqlDatabase, PooledSqliteDatabase

from .checkpoints import FALLBACK_AUTOCHECKPOINT, Checkpointer
from .deferred import HoldsStatements
from .faults import DATABASE_ERRORS, CommitOutcomeUnknown, PoolExhausted, connection_lost
from .server_prepared import PreparesStatements
from .turns import FairTurns, ProcessTurns
from .vacuums import VacuumsAfterFolds

logger = logging.getLogger(__name__)

database = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    # WAL with synchronous=NORMAL never corrupts and survives a killed process;
    # only an OS crash or power loss can undo the last commits.
    "synchronous": "normal",
    "busy_timeout": 10_000,
    "cache_size": -32_000,
    "secure_delete": 1,  # deleted content is zeroed, not left in free pages: an erased mentor is gone
}


class UnsupportedDatabaseURL(ValueError):
    pass


def _check_url(url):
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = url[len("sqlite:///"):]
        if path in ("", ":memory:") or parsed.query:
            # An in-memory database is one per connection: the master would migrate one, each worker see another.
            raise UnsupportedDatabaseURL("DATABASE_URL for SQLite names a file, with no query string: "
                                         "sqlite:///relative.db or sqlite:////absolute.db")
        return "sqlite", path
    if parsed.scheme in ("postgres", "postgresql"):
        params = parse_database_url(url, unquote_password=True, unquote_user=True)
        params.setdefault("connect_timeout", 5)
        return "postgresql", params
    raise UnsupportedDatabaseURL(f"DATABASE_URL must be sqlite:// or postgres(ql)://, not {parsed.scheme!r}://")


def open_database(url):
    """A plain Peewee database for `url` (sqlite:///rel.db, sqlite:////abs.db, postgres://,
    postgresql://), one connection per thread: for one-off jobs. The app uses `open_service_database`."""
    kind, params = _check_url(url)
    if kind == "sqlite":
        # Every transaction takes the write lock when it begins, so two workers that read then
        # write never deadlock into "database is locked".
        return SqliteDatabase(params, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE")
    return PostgresqlDatabase(**params)


def open_service_database(url, pool_size, pool_wait_ms, statement_timeout_ms=None, lock_timeout_ms=None,
                          idle_in_transaction_timeout_ms=None, prepare_statements=True):
    """The app's database for `url`: a pool of at most `pool_size` connections for the process,
    shared by its threads; on PostgreSQL, every statement bounded by the timeouts."""
    kind, params = _check_url(url)
    pool = {"max_connections": pool_size, "timeout": pool_wait_ms / 1000}
    if kind == "sqlite":
        # A pooled connection moves between threads, one at a time. Checkpoints are checkpoints.py's.
        return ServiceSqliteDatabase(params, pragmas={**SQLITE_PRAGMAS, "wal_autocheckpoint": FALLBACK_AUTOCHECKPOINT},
                                     lock_type="IMMEDIATE", check_same_thread=False, **pool)
    db = ServicePostgresqlDatabase(**params, **pool, prepare_statements=prepare_statements)
    db.bound_waits(statement_timeout_ms, lock_timeout_ms, idle_in_transaction_timeout_ms)
    return db


def _close_quietly(close):
    try:
        close()
    except Exception:  # a broken connection may fail to close; it is dropped either way
        logger.debug("closing a broken connection failed", exc_info=True)


class _Pooled:
    """What the service adds to Peewee's pool: no round trip to check a connection when it is
    taken (a dead one is found by its first statement, and `run_view` retries that), and a full
    pool reported as a database error."""

    def connect(self, reuse_if_open=False):
        try:
            return super().connect(reuse_if_open)
        except MaxConnectionsExceeded as error:
            raise PoolExhausted(str(error)) from error
        except DATABASE_ERRORS as error:
            error.while_connecting = True  # the database does not answer: trying again at once is no use
            raise

    def discard_connection(self, all_idle=False):
        """Close this thread's connection rather than return it to the pool, and with `all_idle`
        every idle one too: after a failover or a pooler restart they are all dead."""
        _close_quietly(self.manual_close)
        if all_idle:
            self.close_idle()


class _BeginsAtFirstStatement:
    """BEGIN is sent with a transaction's first statement (`_unsent_begin` hands it over once), and
    a transaction that sends no statement sends nothing at all, COMMIT included."""

    def begin(self, *args):
        self.connection()  # taken from the pool now: opening it later would reset Peewee's transaction state
        self._thread.begin = self._begin_for(*args)

    def _unsent_begin(self):
        begin, self._thread.begin = getattr(self._thread, "begin", None), None
        return begin

    def commit(self):
        if self._unsent_begin() is None:
            super().commit()

    def rollback(self):
        if self._unsent_begin() is None:
            super().rollback()


class ServiceSqliteDatabase(_BeginsAtFirstStatement, _Pooled, PooledSqliteDatabase):
    """Writers take SQLite's write lock in fair turns: the threads of a process in the order they
    asked (FairTurns), then that process's writer against the other processes' (ProcessTurns),
    so that no write waits much longer than the others and none times out for bad luck. Every
    transaction here is a write: they all begin IMMEDIATE, at their first statement, so that the
    turn is held only while the database is used."""

    def __init__(self, database, *args, **kwargs):
        super().__init__(database, *args, **kwargs)
        self._thread_turns = FairTurns()
        self._process_turns = ProcessTurns(f"{database}-turns")
        self._checkpointer = Checkpointer(database)
        self._thread = threading.local()  # begin: the lock type of a BEGIN not sent yet; turn: held

    def _begin_for(self, lock_type=None):
        return lock_type or "IMMEDIATE"

    def execute_sql(self, sql, params=None):
        lock_type = self._unsent_begin()
        if lock_type:
            self._take_turn()
            try:
                SqliteDatabase.begin(self, lock_type)
            except BaseException:
                self._end_turn()
                raise
        return super().execute_sql(sql, params)

    def _take_turn(self):
        wait_s = SQLITE_PRAGMAS["busy_timeout"] / 1000
        started = time.monotonic()
        if not self._thread_turns.acquire(timeout=wait_s):
            raise OperationalError("database is locked")  # as SQLite says it after busy_timeout
        if not self._process_turns.acquire(timeout=max(0.0, wait_s - (time.monotonic() - started))):
            self._thread_turns.release()
            raise OperationalError("database is locked")
        self._thread.turn = True

    def commit(self):
        try:
            super().commit()
        finally:
            self._end_turn()
        self._checkpointer.committed()

    def rollback(self):
        try:
            super().rollback()
        finally:
            self._end_turn()

    def _end_turn(self):
        if getattr(self._thread, "turn", False):
            self._thread.turn = False
            self._process_turns.release()
            self._thread_turns.release()


class ServicePostgresqlDatabase(PreparesStatements, VacuumsAfterFolds, HoldsStatements, _BeginsAtFirstStatement,
                                _Pooled, PooledPostgresqlDatabase):
    """Timeouts that hold directly and through a transaction-pooling PgBouncer, which refuses
    per-session startup options and may give each transaction another server connection: every
    transaction starts with SET LOCAL, and every statement outside a transaction is sent with a
    SET LOCAL of the statement timeout before it in the same query string (PostgreSQL runs such a
    string as one implicit transaction), which costs no extra round trip. BEGIN and its SET LOCALs
    go in the same query string as the transaction's first statement, which saves a round trip
    on every transaction; one that sends no statement sends nothing at all."""

    _begin_sql = "BEGIN"
    _autocommit_prefix = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._thread = threading.local()  # commits: how many; begin: the BEGIN not sent yet

    def bound_waits(self, statement_timeout_ms, lock_timeout_ms, idle_in_transaction_timeout_ms):
        settings = [f"SET LOCAL {name} = {int(value)}" for name, value in (
            ("statement_timeout", statement_timeout_ms), ("lock_timeout", lock_timeout_ms),
            ("idle_in_transaction_session_timeout", idle_in_transaction_timeout_ms)) if value]
        self._begin_sql = "; ".join(["BEGIN", *settings])
        self._autocommit_prefix = f"SET LOCAL statement_timeout = {int(statement_timeout_ms)}; " \
            if statement_timeout_ms else ""

    def _is_closed(self, conn):
        return bool(conn.closed) or self._adapter.txn_status(conn) == self._adapter.txn_unknown

    def _begin_for(self, isolation_level=None):
        self.drop_held()
        return self._begin_sql

    def execute_sql(self, sql, params=None):
        self.send_held()  # deferred.py: before anything else, so that its BEGIN is not taken
        return super().execute_sql(self.bounded(sql), params)

    def bounded(self, sql):
        """`sql` after the transaction's BEGIN not sent yet, or outside one its statement timeout."""
        begin = self._unsent_begin()
        if begin:
            return f"{begin}; {sql}"
        if self._autocommit_prefix and not self.in_transaction():
            return self._autocommit_prefix + sql
        return sql

    def commit(self):
        self.send_held()
        try:
            super().commit()
        except DATABASE_ERRORS as error:
            if connection_lost(error):
                raise CommitOutcomeUnknown(f"connection lost during COMMIT: {error}") from error
            raise
        self._thread.commits = self.commits() + 1

    def rollback(self):
        self.drop_held()
        try:
            super().rollback()
        except DATABASE_ERRORS as error:
            # The server rolls back the transaction of a lost connection itself; what matters is
            # the error that led here, which must not be masked.
            if not connection_lost(error):
                raise

    def commits(self):
        """How many transactions this thread has committed."""
        return getattr(self._thread, "commits", 0)


def is_postgresql(db=database):
    return isinstance(getattr(db, "obj", db), PostgresqlDatabase)


def discard_connection(all_idle=False):
    """Close this thread's connection after a database error, so the next use opens a fresh one."""
    db = database.obj
    if isinstance(db, _Pooled):
        db.discard_connection(all_idle)
        return
    _close_quietly(db.close)


def release_connection(_exception=None):
    """Once a request is done with the database: its connection goes back to the pool for another thread."""
    db = database.obj
    if db is not None and not db.is_closed() and not db.in_transaction():
        db.close()


def init_app(app):
    config = app.config
    database.initialize(open_service_database(
        config["DATABASE_URL"], config["DB_POOL_SIZE"], config["DB_POOL_WAIT_MS"],
        config["DB_STATEMENT_TIMEOUT_MS"], config["DB_LOCK_TIMEOUT_MS"], config["DB_IDLE_IN_TRANSACTION_TIMEOUT_MS"],
        config["DB_PREPARED_STATEMENTS"]))
    app.teardown_appcontext(release_connection)


@contextmanager
def connected():
    """This thread's database connection for what is inside, returned to the pool after (never
    held while a receiver is waited for)."""
    opened = database.is_closed()
    if opened:
        database.connect()
    try:
        yield
    finally:
        if opened and not database.is_closed() and not database.in_transaction():
            database.close()
