"""The database: its handle and pool (handle.py), what its errors mean, the retry-once wrapper of API
views (views.py), the tables' base model and clock (models.py), the migrations and their commands
(migrate.py, migrations/, commands.py), and four speed-ups with their figures beside them: SQL built
once (sql_cache.py), SQLite's fair write turns (turns.py) and its WAL checkpoints made outside them
(checkpoints.py), and PostgreSQL's churned tables vacuumed after folds (vacuums.py).

Other wings use the names imported here."""
from .deferred import defer, send
from .erasure import checkpoint_after_erasure, checkpoint_pending_erasure
from .faults import DATABASE_ERRORS, CommitOutcomeUnknown, connection_lost, first_line, is_unavailable, sqlstate
from .handle import (
    ServicePostgresqlDatabase,
    connected,
    database,
    discard_connection,
    init_app,
    is_postgresql,
    open_database,
    release_connection,
)
from .migrate import ensure_schema, migrate, migration_status
from .models import BaseModel, utc_now
from .sql_cache import PreparedByShape, PreparedQuery
from .vacuums import vacuum_soon

__all__ = ["DATABASE_ERRORS", "BaseModel", "CommitOutcomeUnknown", "PreparedByShape", "PreparedQuery",
           "ServicePostgresqlDatabase", "checkpoint_after_erasure", "connected",
           "checkpoint_pending_erasure", "connection_lost",
           "database", "defer", "discard_connection", "ensure_schema", "first_line", "init_app", "is_postgresql",
           "is_unavailable", "migrate", "migration_status", "open_database", "release_connection", "send", "sqlstate",
           "utc_now", "vacuum_soon"]
