"""How many active pauses are expected back on each day (`return_day_totals`, plus the deltas in
`return_day_totals_delta` not folded in yet), so that the total of `expected_return_before` (and of
`overdue`) is a sum over days, whatever the number of pauses: before it, the active pauses due before
the moment were counted along their index, which at 1,000,000 mentors read 50,000 entries for a date
in the middle of the returns (3-5x the time at 10,000 rows).

Kept by triggers on `pause_record`, as 0012 and 0014 keep what they keep, so that every way a pause
becomes active, ends, or moves its expected return moves them. Each trigger INSERTs a delta row (the
day left, the day entered): no write updates a row another write needs, as with the list totals,
and the fold of the list totals folds these too (pausing/return_days.py).
"""
from peewee import PostgresqlDatabase

# Whether a pause counts, as SQL on its row OLD or NEW: active, with an expected return.
_COUNTS = "{row}.state = 'active' AND {row}.expected_return_date IS NOT NULL"
_WHEN = {
    "INSERT": _COUNTS.format(row="NEW"),
    "DELETE": _COUNTS.format(row="OLD"),
    "UPDATE OF state, expected_return_date": f"(({_COUNTS.format(row='OLD')}) OR ({_COUNTS.format(row='NEW')})) AND "
                                             "(OLD.state <> NEW.state OR OLD.expected_return_date IS DISTINCT FROM "
                                             "NEW.expected_return_date)",
}
_TRIGGERS = {"INSERT": "pause_record_return_day_insert", "DELETE": "pause_record_return_day_delete",
             "UPDATE OF state, expected_return_date": "pause_record_return_day_update"}


def _tables(day_type, key):
    return [f"CREATE TABLE return_day_totals (day {day_type} PRIMARY KEY, pauses BIGINT NOT NULL)",
            f"CREATE TABLE return_day_totals_delta (id {key}, day {day_type} NOT NULL, pauses INTEGER NOT NULL)",
            "CREATE INDEX return_day_totals_delta_day ON return_day_totals_delta (day)"]


def _fill(day_of):
    return (f"INSERT INTO return_day_totals (day, pauses) SELECT {day_of('expected_return_date')}, COUNT(*) "
            "FROM pause_record WHERE state = 'active' AND expected_return_date IS NOT NULL "
            f"GROUP BY {day_of('expected_return_date')}")


def _delta(row, step, day_of):
    return (f"INSERT INTO return_day_totals_delta (day, pauses) VALUES "
            f"({day_of(f'{row}.expected_return_date')}, {step})")


def _postgresql_day(column):
    return f"CAST({column} AS DATE)"


def _sqlite_day(column):
    return f"date({column})"


_POSTGRESQL = [
    *_tables("DATE", "BIGSERIAL PRIMARY KEY"),
    _fill(_postgresql_day),
    "CREATE OR REPLACE FUNCTION pause_record_return_day() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"IF TG_OP <> 'INSERT' AND {_COUNTS.format(row='OLD')} THEN {_delta('OLD', -1, _postgresql_day)}; END IF; "
    f"IF TG_OP <> 'DELETE' AND {_COUNTS.format(row='NEW')} THEN {_delta('NEW', 1, _postgresql_day)}; END IF; "
    "RETURN NULL; END $$",
    *(f"CREATE TRIGGER {_TRIGGERS[event]} AFTER {event} ON pause_record FOR EACH ROW WHEN ({when}) "
      "EXECUTE FUNCTION pause_record_return_day()" for event, when in _WHEN.items()),
]
_SQLITE = [
    *_tables("TEXT", "INTEGER PRIMARY KEY AUTOINCREMENT"),
    _fill(_sqlite_day),
    *(f"CREATE TRIGGER {_TRIGGERS[event]} AFTER {event} ON pause_record FOR EACH ROW WHEN {when} BEGIN "
      + "".join(f"INSERT INTO return_day_totals_delta (day, pauses) SELECT {_sqlite_day(f'{row}.expected_return_date')}"
                f", {step} WHERE {_COUNTS.format(row=row)}; "
                for row, step in (("OLD", -1), ("NEW", 1))
                if not (row == "OLD" and event == "INSERT" or row == "NEW" and event == "DELETE"))
      + "END" for event, when in _WHEN.items()),
]


def up(migrator, db):
    for statement in _POSTGRESQL if isinstance(db, PostgresqlDatabase) else _SQLITE:
        db.execute_sql(statement)


def down(migrator, db):
    postgresql = isinstance(db, PostgresqlDatabase)
    for name in _TRIGGERS.values():
        db.execute_sql(f"DROP TRIGGER IF EXISTS {name}" + (" ON pause_record" if postgresql else ""))
    if postgresql:
        db.execute_sql("DROP FUNCTION IF EXISTS pause_record_return_day()")
    db.execute_sql("DROP TABLE return_day_totals_delta")
    db.execute_sql("DROP TABLE return_day_totals")
