"""Responses are rendered without the response schemas (mentor_status_service/pausing/rendering.py): for
generated resources of every shape, the bytes sent decode to exactly what the schema's `dump` gives,
from models as the writes hold them and from rows as the lists read them."""
import datetime as dt
import itertools
import json

import pytest
from factories import mentors_with_active_pause
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mentor_status_service.changes import log as change_log
from mentor_status_service.changes.models import ChangeEntry
from mentor_status_service.changes.rendering import change_entry_row
from mentor_status_service.changes.schemas import ChangeEntrySchema
from mentor_status_service.db import database
from mentor_status_service.pausing import exports, lookups, pause_record_lists, queries, rendering, totals
from mentor_status_service.pausing.models import MentorStatus, PauseRecord
from mentor_status_service.pausing.schemas import MentorStatusSchema, PauseRecordSchema
from mentor_status_service.web import rendering as web_rendering

# Every string a JSON body can carry once parsed, lone surrogates included.
any_text = st.text(st.characters(exclude_categories=()), max_size=12)
json_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**200), max_value=2**200)
                | st.floats(allow_nan=False, allow_infinity=False) | any_text)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(any_text, inner, max_size=4), max_leaves=12)
metadata = st.dictionaries(any_text, json_values, max_size=5)
seconds = st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
    lambda moment: moment.replace(microsecond=0))
mentor_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,20}", fullmatch=True)
reasons = st.none() | st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)


@st.composite
def mentors(draw, mentor_id=mentor_ids):
    """A mentor as stored, paused or not, with its active pause (or None)."""
    created = draw(seconds)
    mentor = MentorStatus(mentor_id=draw(mentor_id), base_status=draw(st.sampled_from(["active", "inactive"])),
                          created_at=created, last_updated=max(created, draw(seconds)))
    mentor.metadata = draw(metadata)
    mentor.active_pause = draw(st.none() | pause_records(mentor.mentor_id, active=True))
    return mentor


@st.composite
def pause_records(draw, mentor_id, active=None):
    start = draw(seconds)
    later = st.none() | st.builds(lambda days: start + dt.timedelta(days=days), st.integers(0, 3000))
    state = "active" if active else draw(st.sampled_from(["ended", "scheduled"] + ([] if active is False else
                                                                                 ["active"])))
    # Active and scheduled pauses may carry the end_date they will end at; an ended one has its own.
    return PauseRecord(id=draw(st.integers(1, 2**62)), mentor=mentor_id, start_date=start,
                       expected_return_date=draw(later),
                       end_date=draw(later.filter(bool) if state == "ended" else later),
                       reason=draw(reasons), created_at=draw(seconds), state=state)


def sent(document):
    """What a client reads from the response of `document`."""
    return json.loads(web_rendering.body(document))


@given(mentors())
def test_a_mentor_renders_as_its_schema_dumps_it(mentor):
    assert sent(rendering.mentor_status(mentor)) == MentorStatusSchema().dump(mentor)


@given(mentor_ids.flatmap(pause_records))
def test_a_pause_record_renders_as_its_schema_dumps_it(record):
    assert sent(rendering.pause_record(record)) == PauseRecordSchema().dump(record)


DB_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@DB_SETTINGS
@given(data=st.data())
def test_listed_rows_render_as_the_schemas_dump_the_models(app, data):
    """Mentors, pause records and change entries written, then read back as the lists read them."""
    with app.app_context():
        for model in (ChangeEntry, PauseRecord, MentorStatus):
            model.delete().execute()
        written = data.draw(st.lists(mentors(), max_size=6, unique_by=lambda mentor: mentor.mentor_id))
        numbers = itertools.count(data.draw(st.integers(1, 2**62)))
        for mentor in written:
            mentor.save(force_insert=True)
            ended = data.draw(st.lists(pause_records(mentor.mentor_id, active=False), max_size=2))
            for record in filter(None, [mentor.active_pause, *ended]):
                record.id = next(numbers)
                record.save(force_insert=True)
        totals.recount()
        entries = data.draw(st.lists(st.tuples(st.sampled_from(written), st.none() | metadata, st.none() | metadata),
                                     max_size=4)) if written else []
        for change_id, (mentor, before, after) in enumerate(entries, start=1):
            ChangeEntry.create(change_id=change_id, at=data.draw(seconds), actor="someone", request_id="r",
                               resource="mentor_status", resource_id=mentor.mentor_id, mentor_id=mentor.mentor_id,
                               event="updated", before_json=None if before is None else json.dumps(before),
                               after_json=None if after is None else json.dumps(after))

        rows, total, _ = queries.mentor_page(100, dt.datetime(2026, 1, 1))
        assert total == len(written)
        assert [sent(rendering.mentor_status_row(row)) for row in rows] == [
            MentorStatusSchema().dump(
                mentors_with_active_pause().where(MentorStatus.mentor_id == row[0]).get()) for row in rows]
        assert [sent(rendering.mentor_status_row(lookups.mentor_row(row[0]))) for row in rows] == [
            sent(rendering.mentor_status_row(row)) for row in rows]
        assert [csv_read(exports.mentor_status_cells(row), exports.MENTOR_STATUS_FIELDS) for row in rows] == [
            list(sent(rendering.mentor_status_row(row)).values()) for row in rows]
        rows, _, _ = pause_record_lists.pause_record_page(100)
        assert [csv_read(exports.pause_record_cells(row), exports.PAUSE_RECORD_FIELDS) for row in rows] == [
            list(sent(rendering.pause_record_row(row)).values()) for row in rows]
        assert [lookups.pause_record_row(row[0]) for row in rows] == rows
        assert [sent(rendering.pause_record_row(row)) for row in rows] == [
            PauseRecordSchema().dump(lookups.pause_record(row[0])) for row in rows]
        rows = change_log.feed_rows(0, 100)
        assert [sent(change_entry_row(row)) for row in rows] == [
            ChangeEntrySchema().dump(ChangeEntry.get_by_id(row[0])) for row in rows]
        database.close()


def csv_read(cells, fields):
    """CSV cells (exports.py) of `fields` read back as the JSON values they stand for."""
    def value(cell, field):
        if cell == "":
            return None
        if field in ("is_paused", "is_active"):
            return {"true": True, "false": False}[cell]
        return json.loads(cell) if field == "metadata" else cell

    return [value(cell, field) for cell, field in zip(cells, fields, strict=True)]


@pytest.mark.parametrize("value", [2**64, -(2**70), "\ud800 lone", {"deep": [1.5, 2**100]}])
def test_what_orjson_refuses_is_written_as_the_standard_library_writes_it(app, value):
    with app.app_context():
        assert json.loads(app.json.dumps({"value": value})) == {"value": value}
        assert json.loads(app.json.response({"value": value}).get_data()) == {"value": value}


def test_big_integers_in_metadata_come_back_exactly(client):
    body = '{"mentor_id": "mentor-big", "metadata": {"n": 123456789012345678901234567890, "f": 1e300}}'
    created = client.post("/api/v1/mentor-statuses", data=body, content_type="application/json")

    assert created.status_code == 201
    read = json.loads(client.get("/api/v1/mentor-statuses/mentor-big").get_data())
    assert read["metadata"] == {"n": 123456789012345678901234567890, "f": 1e300} == json.loads(created.get_data())[
        "metadata"]
