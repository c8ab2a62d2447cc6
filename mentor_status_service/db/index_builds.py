"""How a migration builds its indexes (0006 says why so): a plain CREATE INDEX in the migration's
transaction, IF NOT EXISTS, so that the same indexes built beforehand on a live database with
`concurrent_statements` (docs/operations.md) leave it nothing to build; an invalid index that a
failed concurrent build left is dropped and built again."""
from peewee import PostgresqlDatabase


def concurrent_statements(indexes):
    """The statements that build `indexes` ({name: "table (columns) [WHERE ...]"}) without
    blocking writes, to run one by one outside any transaction."""
    return [f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {target}" for name, target in indexes.items()]


def build(db, indexes):
    if isinstance(db, PostgresqlDatabase):
        invalid = db.execute_sql(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE NOT i.indisvalid AND c.relname = ANY(%s)", (list(indexes),)).fetchall()
        for (name,) in invalid:
            db.execute_sql(f"DROP INDEX {name}")
    for name, target in indexes.items():
        db.execute_sql(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")


def drop(db, names):
    for name in names:
        db.execute_sql(f"DROP INDEX IF EXISTS {name}")
