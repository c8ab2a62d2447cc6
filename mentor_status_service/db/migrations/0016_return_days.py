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

from mentor_status_service.db import row_triggers

# Whether a pause counts, as SQL on its row OLD or NEW: active, with an expected return.
_COUNTS = "{row}.state = 'active' AND {row}.expected_return_date IS NOT NULL"
_TRIGGERS = {
    "INSERT": ("pause_record_return_day_insert", _COUNTS.format(row="NEW")),
    "DELETE": ("pause_record_return_day_delete", _COUNTS.format(row="OLD")),
    "UPDATE OF state, expected_return_date": (
        "pause_record_return_day_update",
        f"(({_COUNTS.format(row='OLD')}) OR ({_COUNTS.format(row='NEW')})) AND (OLD.state <> NEW.state OR "
        "OLD.expected_return_date IS DISTINCT FROM NEW.expected_return_date)"),
}
_FUNCTION = "pause_record_return_day"


def _tables(day_type, key):
    return [f"CREATE TABLE return_day_totals (day {day_type} PRIMARY KEY, pauses BIGINT NOT NULL)",
            f"CREATE TABLE return_day_totals_delta (id {key}, day {day_type} NOT NULL, pauses INTEGER NOT NULL)",
            "CREATE INDEX return_day_totals_delta_day ON return_day_totals_delta (day)"]


def _fill(day_of):
    return (f"INSERT INTO return_day_totals (day, pauses) SELECT {day_of('expected_return_date')}, COUNT(*) "
            "FROM pause_record WHERE state = 'active' AND expected_return_date IS NOT NULL "
            f"GROUP BY {day_of('expected_return_date')}")


def _delta(day_of):
    """The statement a trigger runs for the row OLD (a day left) or NEW (a day entered), when it counts."""
    return lambda row: (f"INSERT INTO return_day_totals_delta (day, pauses) SELECT "
                        f"{day_of(f'{row}.expected_return_date')}, {-1 if row == 'OLD' else 1} "
                        f"WHERE {_COUNTS.format(row=row)}")


def _postgresql_day(column):
    return f"CAST({column} AS DATE)"


def _sqlite_day(column):
    return f"date({column})"


def _statements(postgresql):
    day_of = _postgresql_day if postgresql else _sqlite_day
    return [*(_tables("DATE", "BIGSERIAL PRIMARY KEY") if postgresql else
              _tables("TEXT", "INTEGER PRIMARY KEY AUTOINCREMENT")),
            _fill(day_of),
            *row_triggers.create_statements(postgresql, "pause_record", _FUNCTION, _TRIGGERS, _delta(day_of))]


def up(migrator, db):
    for statement in _statements(isinstance(db, PostgresqlDatabase)):
        db.execute_sql(statement)


def down(migrator, db):
    row_triggers.drop(db, "pause_record", _TRIGGERS, _FUNCTION)
    db.execute_sql("DROP TABLE return_day_totals_delta")
    db.execute_sql("DROP TABLE return_day_totals")
