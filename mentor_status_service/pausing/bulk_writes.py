"""The statements of a bulk load: many mentors and pause records inserted or updated a few
statements at a time (multi-row INSERT, and UPDATE ... FROM a list of VALUES), not row by row.
Which rows to write, and why, is decided by rules.py; this module only writes them."""
from ..db import database, is_postgresql
from .models import MentorStatus, PauseRecord

# Rows per statement: within SQLite's limit of 32,766 parameters at every width written here.
ROWS_PER_STATEMENT = 500
_MENTOR_INSERTED = ("mentor_id", "base_status", "metadata_json", "created_at", "last_updated")
_MENTOR_UPDATED = ("base_status", "metadata_json", "last_updated")
# A pause's state and moments too (moments.py): a load that closes a pause ends it, one that opens
# or moves it sets when its notices fall due.
_PAUSE_MOMENTS = ("state", "next_moment_at", "return_due_notice_for", "overdue_notice_for")
_PAUSE_INSERTED = ("mentor", "start_date", "expected_return_date", "end_date", "reason", "created_at", *_PAUSE_MOMENTS)
_PAUSE_UPDATED = ("start_date", "expected_return_date", "end_date", "reason", *_PAUSE_MOMENTS)
# What PostgreSQL must be told of a column in a list of VALUES whose cells may all be null.
_POSTGRESQL_TYPES = {"base_status": "varchar", "metadata": "text", "last_updated": "timestamp",
                     "start_date": "timestamp", "expected_return_date": "timestamp", "end_date": "timestamp",
                     "reason": "text", "state": "varchar", "next_moment_at": "timestamp",
                     "return_due_notice_for": "timestamp", "overdue_notice_for": "timestamp"}


def _chunks(rows):
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        yield rows[start:start + ROWS_PER_STATEMENT]


def _values(instance, names):
    """The values of fields `names` as the statements take them: as they are (the drivers adapt
    text, numbers and naive datetimes, as the service's prepared statements pass them), a foreign
    key as its id."""
    return [getattr(instance, "mentor_id" if name == "mentor" else name) for name in names]


def _insert_sql(model, names, count, returning=""):
    """A multi-row INSERT of `count` rows of `names`, written directly: Peewee takes longer to build
    one of thousands of values than the database takes to run it."""
    columns = ", ".join(model._meta.fields[name].column_name for name in names)
    row = "(" + ", ".join([database.param] * len(names)) + ")"
    return f"INSERT INTO {model._meta.table_name} ({columns}) VALUES {', '.join([row] * count)}{returning}"


def insert_mentors(mentors):
    """INSERT new mentors; IntegrityError if one of their ids exists."""
    for chunk in _chunks(mentors):
        database.execute_sql(_insert_sql(MentorStatus, _MENTOR_INSERTED, len(chunk)),
                             [value for mentor in chunk for value in _values(mentor, _MENTOR_INSERTED)])


def insert_pauses(pauses):
    """INSERT new pause records, and give each its id."""
    for chunk in _chunks(pauses):
        cursor = database.execute_sql(_insert_sql(PauseRecord, _PAUSE_INSERTED, len(chunk), " RETURNING id"),
                                      [value for pause in chunk
                                       for value in _values(pause, _PAUSE_INSERTED)])
        # Both databases return the rows of a multi-row INSERT ... RETURNING in the order of its VALUES.
        for pause, (number,) in zip(chunk, cursor.fetchall(), strict=True):
            pause.id = number


def update_mentors(mentors):
    """UPDATE the status, metadata and last_updated of existing mentors."""
    _update_from_values(MentorStatus, "mentor_id", mentors, _MENTOR_UPDATED)


def update_pauses(pauses):
    """UPDATE the dates, reason, state and moments of existing pause records."""
    _update_from_values(PauseRecord, "id", pauses, _PAUSE_UPDATED)


def _update_from_values(model, key, instances, names):
    """One `WITH v AS (VALUES ...) UPDATE ... FROM v` per chunk: SQLite 3.33+ and PostgreSQL both
    take it. PostgreSQL types a column of VALUES from its cells, so each is cast to its column's type."""
    table = model._meta.table_name
    columns = [model._meta.fields[name].column_name for name in names]
    key_column = model._meta.fields[key].column_name
    postgresql = is_postgresql()

    def cell(column):
        return f"CAST(v.{column} AS {_POSTGRESQL_TYPES[column]})" if postgresql else f"v.{column}"

    settings = ", ".join(f"{column} = {cell(column)}" for column in columns)
    placeholders = "(" + ", ".join([database.param] * (len(columns) + 1)) + ")"
    for chunk in _chunks(instances):
        sql = (f"WITH v ({key_column}, {', '.join(columns)}) AS (VALUES {', '.join([placeholders] * len(chunk))}) "
               f"UPDATE {table} SET {settings} FROM v WHERE {table}.{key_column} = v.{key_column}")
        params = [value for instance in chunk
                  for value in (getattr(instance, key), *_values(instance, names))]
        database.execute_sql(sql, params)
