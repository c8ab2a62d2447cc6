"""The database handle, how it is opened from a URL, and the migrations that shape it."""
import logging
from pathlib import Path
from urllib.parse import urlparse

import click
from flask.cli import AppGroup
from peewee import DatabaseProxy, InterfaceError, OperationalError, PostgresqlDatabase, SqliteDatabase
from playhouse.db_url import parse as parse_database_url
from playhouse.migrations import Runner

logger = logging.getLogger(__name__)

database = DatabaseProxy()

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same in every instance sharing the database.
MIGRATION_LOCK_KEY = 0x6D656E746F72

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    # WAL with synchronous=NORMAL never corrupts and survives a killed process;
    # only an OS crash or power loss can undo the last commits.
    "synchronous": "normal",
    "busy_timeout": 10_000,
    "cache_size": -32_000,
}
DATABASE_ERRORS = (OperationalError, InterfaceError)


class UnsupportedDatabaseURL(ValueError):
    pass


def open_database(url):
    """A Peewee database for `url`: sqlite:///rel.db, sqlite:////abs.db, postgres:// or postgresql://.

    Connections open lazily and stay open in their thread (see `init_app`).
    """
    parsed = urlparse(url)
    scheme = parsed.scheme
    if scheme == "sqlite":
        path = url[len("sqlite:///"):]
        if path in ("", ":memory:") or parsed.query:
            # An in-memory database is one per connection: the master would migrate one, each worker see another.
            raise UnsupportedDatabaseURL("DATABASE_URL for SQLite names a file, with no query string: "
                                         "sqlite:///relative.db or sqlite:////absolute.db")
        # Every transaction takes the write lock when it begins, so two workers that read then
        # write never deadlock into "database is locked".
        return SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE")
    if scheme in ("postgres", "postgresql"):
        params = parse_database_url(url, unquote_password=True, unquote_user=True)
        params.setdefault("connect_timeout", 5)
        return PostgresqlDatabase(**params)
    raise UnsupportedDatabaseURL(f"DATABASE_URL must be sqlite:// or postgres(ql)://, not {scheme!r}://")


def is_postgresql(db=database):
    return isinstance(getattr(db, "obj", db), PostgresqlDatabase)


def discard_connection():
    """Close this thread's connection after a database error, so the next request opens a fresh one."""
    try:
        database.close()
    except Exception:  # a broken connection may fail to close; it is dropped either way
        logger.debug("closing a broken connection failed", exc_info=True)


def migrate(db=None):
    """Apply every pending migration; returns their names. Safe to run from several hosts at once."""
    db = db or database.obj
    runner = Runner(db, directory=str(MIGRATIONS_DIR))
    with db.connection_context():
        if isinstance(db, PostgresqlDatabase):
            db.execute_sql("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
        try:
            return runner.up()
        finally:
            if isinstance(db, PostgresqlDatabase):
                db.execute_sql("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))


def migration_status(db=None):
    db = db or database.obj
    with db.connection_context():
        return Runner(db, directory=str(MIGRATIONS_DIR)).status()


db_cli = AppGroup("db", help="Database schema commands.")


@db_cli.command("upgrade")
def upgrade_command():
    """Apply pending migrations."""
    applied = migrate()
    click.echo("\n".join(f"applied {name}" for name in applied) or "schema is up to date")


@db_cli.command("status")
def status_command():
    """List migrations and when each was applied."""
    for migration in migration_status():
        applied = migration.applied.isoformat(sep=" ", timespec="seconds") if migration.applied else "pending"
        click.echo(f"{migration.name}  {applied}")


def init_app(app):
    database.initialize(open_database(app.config["DATABASE_URL"]))
    app.cli.add_command(db_cli)
