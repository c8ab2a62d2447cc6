"""How many mentors are out in a window, counted without reading every pause that overlaps it
(windows.py): before it, the total of `out_during` and `available_during` deduplicated the mentors
of every overlapping pause and looked each one's status up, 100,000 pauses at 1,000,000 for a month
all active pauses overlap (370-410 ms, 40x the time at 10,000 rows).

The mentors out in `[a, b)` are those out at the instant `a`, plus those not out then with a pause
beginning within the window. The first are the spans that hold `a`, which 0017 counts per day, less
each mentor's second and later spans holding it. So that they can be counted by the status each
mentor has now (the lists filter by it):

- each pause row carries its mentor's status (`status_of_mentor`), set by a trigger when the pause
  is inserted and whenever its mentor's status changes (pausing, resuming, a change of base
  status), and the spans per day (0017) are kept by it too;
- the mentors that have two pauses whose spans may overlap are listed in
  `mentor_overlapping_spans`, kept by a trigger on every change of a pause's dates, so that the
  second spans are counted over those mentors alone. "May": a pause without an end date is taken
  to have none (its span ends at an expected return only until that passes).
"""
import importlib

from peewee import PostgresqlDatabase

from mentor_status_service.db import row_triggers
from mentor_status_service.pausing import span_days

_0017 = importlib.import_module("mentor_status_service.db.migrations.0017_span_days")


def _flag(postgresql):
    """The statement a trigger runs for the pause row OLD or NEW: its mentor listed again or not."""
    return lambda row: (f"DELETE FROM mentor_overlapping_spans WHERE mentor_id = {row}.mentor_id; "
                        "INSERT INTO mentor_overlapping_spans (mentor_id) "
                        f"{span_days.overlapping_mentors(postgresql, f'{row}.mentor_id')}")


_FLAG_TRIGGERS = {
    "INSERT": ("pause_record_overlap_insert", "TRUE"),
    "DELETE": ("pause_record_overlap_delete", "TRUE"),
    "UPDATE OF start_date, end_date, mentor_id": (
        "pause_record_overlap_update", "(OLD.start_date <> NEW.start_date OR OLD.end_date IS DISTINCT FROM "
                                       "NEW.end_date OR OLD.mentor_id <> NEW.mentor_id)"),
}
_FLAG_FUNCTION = "pause_record_overlap"

# The spans per day, now by status (0017's, with the status in their key). A change of the status a
# pause carries moves its spans in the statement that makes it (`_move_spans`), for all of a
# mentor's pauses at once; on PostgreSQL, a pause moved to another mentor takes that one's status
# before it is written, so its UPDATE moves them.
_SPAN_TRIGGERS = dict(_0017._TRIGGERS)
_UPDATE_NAME, _UPDATE_WHEN = _SPAN_TRIGGERS.pop("UPDATE OF start_date, expected_return_date, end_date")
_SPAN_TRIGGERS["UPDATE OF start_date, expected_return_date, end_date, mentor_id"] = (
    _UPDATE_NAME, f"({_UPDATE_WHEN} OR OLD.mentor_id <> NEW.mentor_id)")
_SPAN_FUNCTION = _0017._FUNCTION

# A mentor whose status changes hands it to its pauses, which move their spans to it.
_MENTOR_TRIGGERS = {"UPDATE OF paused, base_status": (
    "mentor_status_to_pauses", f"{span_days.STATUS_OF.format(row='OLD')} <> {span_days.STATUS_OF.format(row='NEW')}")}
_MENTOR_FUNCTION = "mentor_status_to_pauses"


def _move_spans(postgresql, pauses, status):
    """The statements that give the pauses `pauses` (a condition on pause_record) the status
    `status` (SQL), with their spans: out of the status each carried, into that one, as one
    delta row per day, kind and status."""
    # OFFSET 0 keeps PostgreSQL from folding the condition into each kind's own: a kind of the open
    # pauses then walked a partial index by start for the mentor's id, every open pause of every mentor.
    fence = " OFFSET 0" if postgresql else ""
    which = f"FROM (SELECT * FROM pause_record WHERE ({pauses}) AND status_of_mentor <> {status}{fence}) AS p"
    spans = span_days.spans_select("p", postgresql, which)
    return (f"INSERT INTO span_day_totals_delta (kind, day, status, pauses) SELECT kind, day, status, SUM(pauses) "
            f"FROM (SELECT kind, day, status, -1 AS pauses FROM ({spans}) AS leaving UNION ALL "
            f"SELECT kind, day, {status}, 1 FROM ({spans}) AS entering) AS moved GROUP BY kind, day, status; "
            f"UPDATE pause_record SET status_of_mentor = {status} WHERE ({pauses}) AND status_of_mentor <> {status}")


def _to_pauses(postgresql):
    return lambda row: _move_spans(postgresql, f"mentor_id = {row}.mentor_id", span_days.STATUS_OF.format(row=row))


# A pause inserted, or moved to another mentor, takes its mentor's status: set in the row on
# PostgreSQL; SQLite, whose triggers cannot change the row, updates it after (the spans follow).
_INSERTED_POSTGRESQL = [
    "CREATE OR REPLACE FUNCTION pause_record_status_of_mentor() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    # UPDATE OF mentor_id fires whenever the column is SET, as every save of a pause does: only a new mentor counts.
    "IF TG_OP = 'INSERT' OR NEW.mentor_id <> OLD.mentor_id THEN "
    f"NEW.status_of_mentor := COALESCE({span_days.mentor_status_sql('NEW.mentor_id')}, 'active'); END IF; "
    "RETURN NEW; END $$",
    "CREATE TRIGGER pause_record_status_of_mentor BEFORE INSERT OR UPDATE OF mentor_id ON pause_record "
    "FOR EACH ROW EXECUTE FUNCTION pause_record_status_of_mentor()",
]
_INSERTED_SQLITE = [
    f"CREATE TRIGGER pause_record_status_of_mentor_{event.split()[0].lower()} AFTER {event} ON pause_record "
    f"FOR EACH ROW BEGIN {_move_spans(False, 'id = NEW.id', span_days.mentor_status_sql('NEW.mentor_id'))}; END"
    for event in ("INSERT", "UPDATE OF mentor_id")]


def _span_tables(postgresql):
    day_type, key = ("DATE", "BIGSERIAL PRIMARY KEY") if postgresql else ("TEXT", "INTEGER PRIMARY KEY AUTOINCREMENT")
    return [
        f"CREATE TABLE span_day_totals (kind TEXT NOT NULL, day {day_type} NOT NULL, status TEXT NOT NULL, "
        "pauses BIGINT NOT NULL, PRIMARY KEY (kind, day, status))",
        f"CREATE TABLE span_day_totals_delta (id {key}, kind TEXT NOT NULL, day {day_type} NOT NULL, "
        "status TEXT NOT NULL, pauses INTEGER NOT NULL)",
        "CREATE INDEX span_day_totals_delta_kind_day ON span_day_totals_delta (kind, day)",
        f"INSERT INTO span_day_totals (kind, day, status, pauses) {span_days.counted(postgresql)}",
        *row_triggers.create_statements(
            postgresql, "pause_record", _SPAN_FUNCTION, _SPAN_TRIGGERS,
            lambda row: (f"INSERT INTO span_day_totals_delta (kind, day, status, pauses) SELECT kind, day, status, "
                         f"{-1 if row == 'OLD' else 1} FROM ({span_days.spans_select(row, postgresql)}) AS spans")),
    ]


def _drop_span_tables(db, triggers):
    row_triggers.drop(db, "pause_record", triggers, _SPAN_FUNCTION)
    db.execute_sql("DROP TABLE span_day_totals_delta")
    db.execute_sql("DROP TABLE span_day_totals")


def up(migrator, db):
    postgresql = isinstance(db, PostgresqlDatabase)
    _drop_span_tables(db, _0017._TRIGGERS)
    statements = [
        "ALTER TABLE pause_record ADD COLUMN status_of_mentor TEXT NOT NULL DEFAULT 'active'",
        f"UPDATE pause_record SET status_of_mentor = {span_days.mentor_status_sql('pause_record.mentor_id')} "
        "WHERE mentor_id IN (SELECT mentor_id FROM mentor_status WHERE paused = TRUE OR base_status <> 'active')",
        *(_INSERTED_POSTGRESQL if postgresql else _INSERTED_SQLITE),
        *row_triggers.create_statements(postgresql, "mentor_status", _MENTOR_FUNCTION, _MENTOR_TRIGGERS,
                                        _to_pauses(postgresql), rows=("NEW",)),
        *_span_tables(postgresql),
        "CREATE TABLE mentor_overlapping_spans (mentor_id TEXT PRIMARY KEY)",
        f"INSERT INTO mentor_overlapping_spans (mentor_id) {span_days.overlapping_mentors(postgresql)}",
        *row_triggers.create_statements(postgresql, "pause_record", _FLAG_FUNCTION, _FLAG_TRIGGERS,
                                        _flag(postgresql)),
    ]
    for statement in statements:
        db.execute_sql(statement)


def down(migrator, db):
    postgresql = isinstance(db, PostgresqlDatabase)
    row_triggers.drop(db, "pause_record", _FLAG_TRIGGERS, _FLAG_FUNCTION)
    db.execute_sql("DROP TABLE mentor_overlapping_spans")
    _drop_span_tables(db, _SPAN_TRIGGERS)
    row_triggers.drop(db, "mentor_status", _MENTOR_TRIGGERS, _MENTOR_FUNCTION)
    if postgresql:
        db.execute_sql("DROP TRIGGER pause_record_status_of_mentor ON pause_record")
        db.execute_sql("DROP FUNCTION pause_record_status_of_mentor()")
    else:
        for event in ("insert", "update"):
            db.execute_sql(f"DROP TRIGGER pause_record_status_of_mentor_{event}")
    db.execute_sql("ALTER TABLE pause_record DROP COLUMN status_of_mentor")
    for statement in _0017._statements(postgresql):  # its tables and triggers, not its indexes (kept)
        db.execute_sql(statement)
