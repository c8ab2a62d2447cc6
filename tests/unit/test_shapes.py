"""A resource's shape is declared once, by its response schema (web/shapes.py): a field added to the
schema shows up in the JSON from rows and from models and in the CSV header and cells, in its place,
with no other edit; what cannot be derived stops the import, naming the field."""
import csv
import datetime as dt
import io
import json

import marshmallow as ma
import pytest
from marshmallow import fields

from mentor_status_service.pausing import rendering
from mentor_status_service.pausing.lookups import PAUSE_RECORD_COLUMNS
from mentor_status_service.pausing.models import PauseRecord
from mentor_status_service.pausing.schemas import PauseRecordSchema
from mentor_status_service.web import rendering as web_rendering
from mentor_status_service.web.schemas import UtcDateTime
from mentor_status_service.web.shapes import Shape

START = dt.datetime(2026, 3, 1, 9, 15)


def schema_with(after, **added):
    """PauseRecordSchema with the fields `added` declared right after `after`, as a one-line edit would."""
    declared = dict(PauseRecordSchema._declared_fields)
    names = list(declared)
    position = names.index(after) + 1
    ordered = {name: declared[name] for name in names[:position]} | added
    ordered |= {name: declared[name] for name in names[position:]}
    return ma.Schema.from_dict(ordered, name="PauseRecordSchemaWithMore")


def record(**changes):
    return PauseRecord(id=18, mentor="mentor-042", start_date=START, expected_return_date=None,
                       end_date=START + dt.timedelta(days=3), reason="=cmd", created_at=START, state="ended",
                       **changes)


def sent(document):
    return json.loads(web_rendering.body(document))


def csv_lines(shape, row):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(shape.header)
    writer.writerow(shape.cells(row))
    return list(csv.reader(io.StringIO(buffer.getvalue())))


def test_a_field_added_to_the_schema_shows_in_json_and_csv_in_its_place():
    # As adding `state` after `is_active` was: one line in the schema, its column in the row.
    schema = schema_with("state", note=fields.String(required=True))
    columns = (*PAUSE_RECORD_COLUMNS, "note")
    shape = Shape(schema, columns, rendering.PAUSE_RECORD.sources, names=rendering.PAUSE_RECORD.names)
    model = record(note="a note")
    row = (18, "mentor-042", START, None, START + dt.timedelta(days=3), "=cmd", START, "ended", "a note")

    expected = schema().dump(model)
    assert list(expected)[5:8] == ["is_active", "state", "note"] and expected["note"] == "a note"
    assert list(sent(shape.render_row(row)).items()) == list(expected.items())
    assert list(sent(shape.render(model)).items()) == list(expected.items())
    header, cells = csv_lines(shape, row)
    assert header == list(expected) == list(shape.header)
    assert cells == ["pause-rec-0018", "mentor-042", "2026-03-01T09:15:00Z", "", "2026-03-04T09:15:00Z", "false",
                     "ended", "a note", "'=cmd", "2026-03-01T09:15:00Z"]


def test_each_type_is_written_once_for_json_and_csv():
    """A date, a boolean, an integer, text, stored JSON and null, each as a new field from a column."""
    schema = schema_with("created_at", noted_at=UtcDateTime(allow_none=True), flag=fields.Boolean(),
                         count=fields.Integer(), note=fields.String(allow_none=True), extra=fields.Dict())
    columns = (*PAUSE_RECORD_COLUMNS, "noted_at", "flag", "count", "note", "extra")
    shape = Shape(schema, columns, rendering.PAUSE_RECORD.sources, names=rendering.PAUSE_RECORD.names)
    row = (18, "mentor-042", START, None, None, None, START, "active", "2026-03-02 10:00:00", True, 7, None,
           '{"a":[1]}')

    assert list(sent(shape.render_row(row)).items())[-5:] == [
        ("noted_at", "2026-03-02T10:00:00Z"), ("flag", True), ("count", 7), ("note", None), ("extra", {"a": [1]})]
    assert csv_lines(shape, row)[1][-5:] == ["2026-03-02T10:00:00Z", "true", "7", "", '{"a":[1]}']


def test_the_derived_shapes_are_the_schemas_field_lists():
    assert rendering.MENTOR_STATUS.header == tuple(rendering.MENTOR_STATUS.schema().fields)
    assert rendering.PAUSE_RECORD.header == tuple(PauseRecordSchema().fields)


@pytest.mark.parametrize("added, sources, problem", [
    ({"nowhere": fields.String()}, {}, "PauseRecordSchemaWithMore.nowhere: no column or name nowhere"),
    ({"noted_at": fields.DateTime()}, {"noted_at": "start_date"}, "no writer for a DateTime field"),
    ({"tags": fields.List(fields.String())}, {"tags": "reason"}, "no writer for a List field"),
    ({}, {"nothing": "reason"}, "sources for fields it does not declare: ['nothing']"),
])
def test_a_field_the_declaration_cannot_write_stops_the_import_naming_it(added, sources, problem):
    schema = schema_with("is_active", **added)

    with pytest.raises(TypeError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        Shape(schema, PAUSE_RECORD_COLUMNS, {**rendering.PAUSE_RECORD.sources, **sources},
              names=rendering.PAUSE_RECORD.names)
