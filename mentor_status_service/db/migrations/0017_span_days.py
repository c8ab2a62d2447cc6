"""How many pause spans begin and end on each day (`span_day_totals`, plus the deltas in
`span_day_totals_delta` not folded in yet), so that the total of `during` (the pauses whose span
overlaps a window) is a few sums over days, whatever the number of pauses: before it, the pauses
overlapping a window were counted along their indexes, 100,000 entries at 1,000,000 pause records
for a month all active pauses overlap (10-40x the time at 10,000 rows).

Counted per kind and day (pausing/span_days.py says which pauses each kind counts): pauses with an
end date by the day they start (`ended_start`) and end (`ended_end`); pauses without one by the day
they start (`open_start`) and, with an expected return, the day of it (`open_return`); those without
one whose expected return is their start, by that day (`open_no_span`).

Also the indexes along which the page of `during` reads the pauses without an end date, sorted
(PostgreSQL walked every ended pause it met in the sort's order before them: 0.4-1.1 s at 1,000,000
pause records); like 0006's, buildable beforehand with `CONCURRENT_STATEMENTS`.

Kept by triggers on `pause_record`, as 0016 keeps the returns per day: each INSERTs delta rows (the
days a pause leaves, the days it enters), so no write updates a row another write needs, and the
fold of the list totals folds these too.
"""
from peewee import PostgresqlDatabase

from mentor_status_service.db import index_builds, row_triggers
from mentor_status_service.pausing import span_days

_TRIGGERS = {
    "INSERT": ("pause_record_span_day_insert", "TRUE"),
    "DELETE": ("pause_record_span_day_delete", "TRUE"),
    "UPDATE OF start_date, expected_return_date, end_date": (
        "pause_record_span_day_update",
        "(OLD.start_date <> NEW.start_date OR OLD.expected_return_date IS DISTINCT FROM NEW.expected_return_date "
        "OR OLD.end_date IS DISTINCT FROM NEW.end_date)"),
}
_FUNCTION = "pause_record_span_day"
# The pauses without an end date, in each order a list sorts by (the page of `during` reads them apart
# from those with one: pause_record_lists.py).
INDEXES = {
    "pause_record_open_by_id": "pause_record (id) WHERE end_date IS NULL",
    "pause_record_open_by_start": "pause_record (start_date, id) WHERE end_date IS NULL",
    "pause_record_open_by_return": "pause_record (expected_return_date, id) WHERE end_date IS NULL",
    "pause_record_open_by_created": "pause_record (created_at, id) WHERE end_date IS NULL",
}
CONCURRENT_STATEMENTS = index_builds.concurrent_statements(INDEXES)


def _statements(postgresql):
    day_type, key = ("DATE", "BIGSERIAL PRIMARY KEY") if postgresql else ("TEXT", "INTEGER PRIMARY KEY AUTOINCREMENT")
    return [
        f"CREATE TABLE span_day_totals (kind TEXT NOT NULL, day {day_type} NOT NULL, pauses BIGINT NOT NULL, "
        "PRIMARY KEY (kind, day))",
        f"CREATE TABLE span_day_totals_delta (id {key}, kind TEXT NOT NULL, day {day_type} NOT NULL, "
        "pauses INTEGER NOT NULL)",
        "CREATE INDEX span_day_totals_delta_kind_day ON span_day_totals_delta (kind, day)",
        f"INSERT INTO span_day_totals (kind, day, pauses) {span_days.counted(postgresql, by_status=False)}",
        *row_triggers.create_statements(
            postgresql, "pause_record", _FUNCTION, _TRIGGERS,
            lambda row: (f"INSERT INTO span_day_totals_delta (kind, day, pauses) SELECT kind, day, "
                         f"{-1 if row == 'OLD' else 1} FROM "
                         f"({span_days.spans_select(row, postgresql, by_status=False)}) AS spans")),
    ]


def up(migrator, db):
    index_builds.build(db, INDEXES)
    for statement in _statements(isinstance(db, PostgresqlDatabase)):
        db.execute_sql(statement)


def down(migrator, db):
    row_triggers.drop(db, "pause_record", _TRIGGERS, _FUNCTION)
    index_builds.drop(db, INDEXES)
    db.execute_sql("DROP TABLE span_day_totals_delta")
    db.execute_sql("DROP TABLE span_day_totals")
