"""Reading a bulk load of mentor statuses: a JSON body `{"mentors": [...]}` or a CSV body whose
header row names fields as the CSV export writes them. Each row is checked by the schema a single
POST uses (MentorStatusCreateSchema: one declaration of what a mentor may be), then handed to
rules.import_mentor_statuses for the rules that need the database. Every invalid row is reported,
by its number from 1 (a CSV's header row not counted)."""
import csv
import io

from flask import request
from flask_smorest import abort
from marshmallow import ValidationError

from ..web.api import CSV_BODY_MIMETYPE, RequestParser, strict_json
from . import rules
from .exports import MENTOR_STATUS_FIELDS
from .schemas import MentorStatusCreateSchema, MentorStatusImportBodySchema

MAX_ROWS = 10_000
MAX_BYTES = 8 * 1024 * 1024
# Written by the server: an export's columns that a load accepts and ignores.
IGNORED_COLUMNS = ("created_at", "last_updated")
_BOOLEAN_CELLS = {"true": True, "false": False}
EXTRA_CELLS = "(cells beyond the header row)"
_ROW_SCHEMA = MentorStatusCreateSchema()
_BODY_SCHEMA = MentorStatusImportBodySchema()
_PARSER = RequestParser()


def import_mentor_statuses(mode, dry_run):
    """Load this request's body (JSON or CSV) with `mode`, as rules.import_mentor_statuses does."""
    raw_rows = _csv_rows() if request.mimetype == CSV_BODY_MIMETYPE else _json_rows()
    if len(raw_rows) > MAX_ROWS:
        _too_many_rows()
    rows, errors, first_row_of = [], {}, {}
    for number, raw in enumerate(raw_rows, start=1):
        try:
            fields = _ROW_SCHEMA.load(raw)
        except ValidationError as error:
            errors[number] = error.normalized_messages()
            continue
        mentor_id = fields["mentor_id"]
        if mentor_id in first_row_of:
            errors[number] = {"mentor_id": [f"Repeated: row {first_row_of[mentor_id]} has this mentor_id already."]}
            continue
        first_row_of[mentor_id] = number
        rows.append((number, fields))
    return rules.import_mentor_statuses(rows, mode, dry_run, errors)


def _too_many_rows():
    abort(413, message=f"A load holds at most {MAX_ROWS} rows: split it.")


def _json_rows():
    return _PARSER.parse(_BODY_SCHEMA, request, location="json")["mentors"]


def _csv_rows():
    """The rows of a CSV body as the dicts a JSON load would hold: an empty cell is an absent field,
    `is_paused` a boolean, `metadata` the JSON its text holds."""
    try:
        text = request.get_data().decode("utf-8-sig")
    except UnicodeDecodeError:
        abort(400, message="The CSV body is not UTF-8 text.")
    try:
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        header = next(reader, None)
        if not header:
            abort(422, message="The CSV body has no header row.", errors={"csv": {"header": ["Missing."]}})
        _check_header(header)
        rows = []
        for cells in reader:
            if not cells:
                continue  # a blank line, as spreadsheets leave at the end
            if len(rows) == MAX_ROWS:
                _too_many_rows()
            rows.append(_row_of_cells(header, cells))
        return rows
    except csv.Error as error:
        abort(400, message=f"The CSV body is malformed: {error}.")


def _check_header(header):
    known = set(MENTOR_STATUS_FIELDS)
    problems = {}
    for column in header:
        if column not in known:
            problems[column] = ["Unknown column."]
        elif header.count(column) > 1:
            problems[column] = ["Repeated column."]
    if problems:
        abort(422, message="The CSV header row names columns a mentor status does not have: see errors.",
              errors={"csv": problems})


def _row_of_cells(header, cells):
    row = {}
    if len(cells) > len(header):
        row[EXTRA_CELLS] = cells[len(header):]  # the schema names it as an unknown field
    for column, cell in zip(header, cells):
        if cell == "" or column in IGNORED_COLUMNS:
            continue
        if column == "is_paused":
            cell = _BOOLEAN_CELLS.get(cell, cell)
        elif column == "metadata":
            try:
                cell = strict_json(cell)
            except (ValueError, RecursionError):
                pass  # the schema answers "Not a valid mapping type."
        row[column] = cell
    return row
