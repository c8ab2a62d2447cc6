"""The migrations that shape the database: applied once per database, by whichever process gets
there first, directly or through a transaction-pooling PgBouncer."""
import logging
import threading
from pathlib import Path

from peewee import PostgresqlDatabase
from playhouse.migrations import Runner

from .handle import database

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same in every instance sharing the database.
MIGRATION_LOCK_KEY = 0x6D656E746F72


def migrate(db=None):
    """Apply every pending migration; returns their names. Safe to run from several hosts at once,
    directly or through a transaction-pooling PgBouncer."""
    db = db or database.obj
    runner = Runner(db, directory=str(MIGRATIONS_DIR))
    with db.connection_context():
        if not isinstance(db, PostgresqlDatabase):
            return runner.up()
        with db.atomic():
            # The lock belongs to this transaction, so a pooler cannot let it outlive the migration
            # on a server connection another client then gets. No statement or lock timeout: the
            # second instance waits for the first, and a migration may take long on a large table.
            db.execute_sql("SET LOCAL lock_timeout = 0; SET LOCAL statement_timeout = 0")
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK_KEY,))
            return runner.up()


def migration_status(db=None):
    db = db or database.obj
    with db.connection_context():
        return Runner(db, directory=str(MIGRATIONS_DIR)).status()


_schema_lock = threading.Lock()
_at_first_use = []  # what other wings do once the schema is ready, once per process and database


def on_first_use(task):
    """Have `task(db)` run once the schema is up to date, the first time a process needs the
    database (the webhooks wing encrypts the secrets stored before SECRETS_KEY was set)."""
    _at_first_use.append(task)


def ensure_schema():
    """Bring the schema up to date the first time this process needs the database (the master
    migrates at start, but the database may not have answered then), then run the tasks other
    wings asked for (`on_first_use`). Raises the database's error
    while it does not answer; checks once per process after that."""
    db = database.obj
    if getattr(db, "schema_ready", False):
        return
    with _schema_lock:
        if getattr(db, "schema_ready", False):
            return
        if any(migration.applied is None for migration in migration_status(db)):
            applied = migrate(db)
            logger.info("migrations applied: %s", ", ".join(applied) or "none pending")
        with db.connection_context():
            for task in _at_first_use:
                task(db)
        db.schema_ready = True
