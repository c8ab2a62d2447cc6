"""Row triggers as the migrations that keep derived values create them (0014, 0016), on both
backends: one AFTER trigger per event (INSERT, DELETE, UPDATE OF some columns), each with its WHEN
clause, running one statement for the row before (OLD, but on INSERT) and one for the row after
(NEW, but on DELETE). PostgreSQL runs them from one plpgsql function; SQLite, which has none, from
each trigger's body."""
from peewee import PostgresqlDatabase


def create_statements(postgresql, table, function, triggers, statement, rows=("OLD", "NEW")):
    """The statements that create them: `triggers` {event: (name, when)}, `statement(row)` the SQL
    run for the row "OLD" or "NEW" (of those in `rows` only); `function` names PostgreSQL's."""
    if postgresql:
        return [f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                + "".join(f"IF TG_OP <> '{skipped}' THEN {statement(row)}; END IF; "
                          for row, skipped in (("OLD", "INSERT"), ("NEW", "DELETE")) if row in rows)
                + "RETURN NULL; END $$",
                *(f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW WHEN ({when}) "
                  f"EXECUTE FUNCTION {function}()" for event, (name, when) in triggers.items())]
    return [f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW WHEN {when} BEGIN "
            + "".join(f"{statement(row)}; " for row in _rows_of(event) if row in rows) + "END"
            for event, (name, when) in triggers.items()]


def drop(db, table, triggers, function):
    """Drop what `create_statements` made."""
    postgresql = isinstance(db, PostgresqlDatabase)
    for name, _ in triggers.values():
        db.execute_sql(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgresql else ""))
    if postgresql:
        db.execute_sql(f"DROP FUNCTION IF EXISTS {function}()")


def _rows_of(event):
    """The rows a trigger on `event` has: no OLD on INSERT, no NEW on DELETE."""
    return [row for row in ("OLD", "NEW") if (row, event) not in (("OLD", "INSERT"), ("NEW", "DELETE"))]
