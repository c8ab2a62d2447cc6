"""Request, response and query schemas: the shape of the API. Shape checks only, no queries."""
import json

import marshmallow as ma
from marshmallow import ValidationError, fields, pre_load, validate, validates_schema

from ..web.schemas import (
    FullMatch,
    PageArgsSchema,
    QueryBoolean,
    RejectReadOnly,
    StrictBoolean,
    UtcDateTime,
    mentor_id_field,
)
from . import windows
from .models import MENTOR_SORT_KEYS, PAUSE_RECORD_SORT_KEYS, PAUSE_STATES, REASON_CODE_PATTERN, STATUSES

METADATA_MAX_BYTES = 16 * 1024
METADATA_MAX_DEPTH = 32


class WindowField(fields.String):
    """An ISO 8601 interval `<start>/<end>` of two dates or datetimes as UtcDateTime reads them, the
    start before the end; held as a `windows.Window`."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("Not a valid interval.")
        time = UtcDateTime()
        try:
            return windows.parse_window(value, time.deserialize)
        except ValidationError as error:
            raise ValidationError(f"Its start and end must each be an ISO 8601 datetime or date: {value[:80]!r} "
                                  "is not.") from error
        except ValueError as error:
            raise ValidationError(str(error)) from error


def _depth(value):
    """How many levels of objects and arrays `value` has. Counted level by level, not by recursion:
    a body may nest nearly as deep as the recursion limit, and recursing here on top would pass it."""
    depth, level = 0, [value]
    while level := [item for item in level if isinstance(item, (dict, list))]:
        depth += 1
        level = [child for item in level for child in (item.values() if isinstance(item, dict) else item)]
    return depth


def validate_metadata(value):
    if _depth(value) > METADATA_MAX_DEPTH:
        raise ValidationError(f"Nested deeper than {METADATA_MAX_DEPTH} levels.")
    size = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass"))
    if size > METADATA_MAX_BYTES:
        raise ValidationError(f"Larger than {METADATA_MAX_BYTES} bytes as compact UTF-8 JSON.")


def reason_code_field(**kwargs):
    return fields.String(validate=FullMatch(REASON_CODE_PATTERN, error="Must be a reason code: 1 to 64 lowercase "
                                                                       "letters, digits or _, starting with a letter."),
                         **kwargs)


# Mentor statuses

class MentorStatusSchema(ma.Schema):
    mentor_id = fields.String(required=True, metadata={"example": "mentor-042"})
    status = fields.String(required=True, validate=validate.OneOf(STATUSES), metadata={"example": "paused"})
    is_paused = fields.Boolean(required=True, metadata={"example": True})
    pause_start_date = UtcDateTime(required=True, allow_none=True, metadata={"example": "2026-03-01T00:00:00Z"})
    expected_return_date = UtcDateTime(required=True, allow_none=True, metadata={"example": "2026-04-01T00:00:00Z"})
    pause_reason = fields.String(required=True, allow_none=True, metadata={"example": "certification_expiry"})
    metadata = fields.Dict(required=True, metadata={"example": {"initiated_by": "coordinator-007"}})
    created_at = UtcDateTime(required=True, metadata={"example": "2026-03-01T09:15:00Z"})
    last_updated = UtcDateTime(required=True, metadata={"example": "2026-03-01T09:15:00Z"})


class MentorStatusChangesSchema(ma.Schema):
    """The writable fields of a mentor status, shared by create and update."""

    status = fields.String(validate=validate.OneOf(STATUSES))
    is_paused = StrictBoolean()
    pause_start_date = UtcDateTime(allow_none=True, metadata={"description": "Only while paused; defaults to now "
                                                                             "when a pause begins."})
    expected_return_date = UtcDateTime(allow_none=True, metadata={"description": "Only while paused; not before "
                                                                                 "pause_start_date."})
    pause_reason = reason_code_field(allow_none=True, metadata={"description": "Only while paused."})
    metadata = fields.Dict(validate=validate_metadata, metadata={"description": "Free-form JSON object, at most "
                                                                                "16 KiB; replaced whole."})

    @validates_schema
    def status_agrees_with_is_paused(self, data, **kwargs):
        if "status" in data and "is_paused" in data and (data["status"] == "paused") != data["is_paused"]:
            problem = "status and is_paused contradict each other."
            raise ValidationError({"status": [problem], "is_paused": [problem]})


class MentorStatusCreateSchema(MentorStatusChangesSchema):
    mentor_id = mentor_id_field(required=True, metadata={"example": "mentor-099"})


class MentorStatusUpdateSchema(RejectReadOnly, MentorStatusChangesSchema):
    read_only_fields = ("mentor_id", "created_at", "last_updated")


class MentorStatusImportArgsSchema(ma.Schema):
    mode = fields.String(load_default="create", validate=validate.OneOf(("create", "upsert")), metadata={
        "description": "create: every mentor_id must be new; upsert: an existing mentor is updated with the "
                       "fields sent, as a PUT, and a new one created"})
    dry_run = QueryBoolean(load_default=False, metadata={
        "description": "true: check everything and answer as the load would, writing nothing"})


class MentorStatusImportBodySchema(ma.Schema):
    """A JSON load: its rows, each checked on its own as a POST's body (MentorStatusCreateSchema)."""

    mentors = fields.List(fields.Raw(), required=True)


class MentorStatusImportResultSchema(ma.Schema):
    rows = fields.Integer(required=True, metadata={"example": 2000})
    created = fields.Integer(required=True, metadata={"example": 120})
    updated = fields.Integer(required=True, metadata={"example": 35})
    unchanged = fields.Integer(required=True, metadata={"example": 1845})


class MentorStatusDeletedSchema(ma.Schema):
    deleted = fields.Boolean(required=True, metadata={"example": True})
    mentor_id = fields.String(required=True, metadata={"example": "mentor-099"})


# Pause records

class PauseRecordSchema(ma.Schema):
    pause_record_id = fields.String(required=True, metadata={"example": "pause-rec-0018"})
    mentor_id = fields.String(required=True, metadata={"example": "mentor-042"})
    start_date = UtcDateTime(required=True, metadata={"example": "2026-03-01T00:00:00Z"})
    expected_return_date = UtcDateTime(required=True, allow_none=True, metadata={"example": "2026-04-01T00:00:00Z"})
    end_date = UtcDateTime(required=True, allow_none=True, metadata={"example": None})
    is_active = fields.Boolean(required=True, metadata={"description": "True exactly while state is active",
                                                        "example": True})
    state = fields.String(required=True, validate=validate.OneOf(PAUSE_STATES), metadata={
        "description": "scheduled until start_date, active until end_date (or until closed), then ended",
        "example": "active"})
    reason = fields.String(required=True, allow_none=True, metadata={"example": "certification_expiry"})
    created_at = UtcDateTime(required=True, metadata={"example": "2026-03-01T09:15:00Z"})


class PauseRecordChangesSchema(ma.Schema):
    """The writable fields of a pause record, shared by create and update."""

    start_date = UtcDateTime(metadata={"description": "Defaults to now; later than now schedules the pause."})
    expected_return_date = UtcDateTime(allow_none=True, metadata={"description": "Not before start_date."})
    end_date = UtcDateTime(allow_none=True, metadata={"description": "When the pause ends or ended: later than now, "
                                                                     "it ends then; not before start_date."})
    is_active = StrictBoolean(metadata={"description": "false closes the pause now, true reopens it; not on a "
                                                       "scheduled pause."})
    reason = reason_code_field(allow_none=True)


class PauseRecordCreateSchema(PauseRecordChangesSchema):
    mentor_id = mentor_id_field(required=True, metadata={"example": "mentor-042"})


class PauseRecordUpdateSchema(RejectReadOnly, PauseRecordChangesSchema):
    read_only_fields = ("pause_record_id", "mentor_id", "created_at")


class PauseRecordDeletedSchema(ma.Schema):
    deleted = fields.Boolean(required=True, metadata={"example": True})
    pause_record_id = fields.String(required=True, metadata={"example": "pause-rec-0018"})


# Lists


class ListArgsSchema(PageArgsSchema):
    """What every list takes beside its filters: its page or cursor, its order, its format."""

    cursor = fields.String(validate=validate.Length(min=1, max=1024), metadata={
        "description": "next_cursor from a page of this list with the same filters and sort: the rows after it. "
                       "Not with page."})
    format = fields.String(validate=validate.OneOf(("json", "csv")), metadata={
        "description": "csv: every matching row as CSV, as with Accept: text/csv (page, limit and cursor ignored)"})

    @pre_load
    def cursor_or_page(self, data, **kwargs):
        if "cursor" in data and "page" in data:
            raise ValidationError({"cursor": ["A cursor continues a list: send it without page."]})
        return data


def sort_field(keys, default):
    return fields.String(validate=validate.OneOf([*keys, *(f"-{key}" for key in keys)]), metadata={
        "description": f"Order by one of these ({default} by default); a leading - sorts descending. Ties by "
                       f"{default} in the same direction; nulls last either way."})


class MentorStatusListArgsSchema(ListArgsSchema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    is_paused = QueryBoolean()
    expected_return_before = UtcDateTime(metadata={"description": "Paused mentors whose expected_return_date is "
                                                                  "strictly earlier."})
    overdue = QueryBoolean(metadata={"description": "true: paused mentors whose expected_return_date has passed; "
                                                    "false: every other mentor."})
    # No "example": Swagger UI's "Try it out" would send it, filtering the list it tries.
    out_during = WindowField(metadata={"description": "An interval <start>/<end>, such as 2027-03-01/2027-04-01: "
                                                      "mentors with a pause whose span overlaps it."})
    available_during = WindowField(metadata={"description": "An interval <start>/<end>, such as "
                                                            "2027-03-01/2027-04-01: mentors not inactive now with no "
                                                            "pause whose span overlaps it."})
    sort = sort_field(MENTOR_SORT_KEYS, "mentor_id")


class PauseRecordListArgsSchema(ListArgsSchema):
    mentor_id = mentor_id_field()
    is_active = QueryBoolean()
    state = fields.String(validate=validate.OneOf(PAUSE_STATES))
    reason = reason_code_field()
    during = WindowField(metadata={"description": "An interval <start>/<end> (half-open), such as "
                                                  "2027-03-01/2027-04-01: pauses whose span overlaps it, in any "
                                                  "state."})
    sort = sort_field(PAUSE_RECORD_SORT_KEYS, "pause_record_id")
    format = fields.String(validate=validate.OneOf(("json", "csv", "ics")), metadata={
        "description": "csv: every matching row as CSV, as with Accept: text/csv; ics: every matching pause as an "
                       "iCalendar, as with Accept: text/calendar (page, limit and cursor ignored)"})
    key = fields.String(load_only=True, metadata={
        "description": "A calendar key (CALENDAR_KEYS), in place of a read token, on a calendar request only"})


class ListPaginationSchema(ma.Schema):
    page = fields.Integer(metadata={"description": "Absent when the page was asked for by cursor", "example": 1})
    limit = fields.Integer(required=True, metadata={"example": 20})
    total = fields.Integer(required=True, metadata={"description": "The whole list's, as on page 1", "example": 87})
    next_cursor = fields.String(required=True, allow_none=True, metadata={
        "description": "Send it back as cursor for the rows after this page; null when none follows",
        "example": "WzEsIjVmM2QiLDAsbnVsbCwibWVudG9yLTA0MiJd..."})


class MentorStatusListSchema(ma.Schema):
    data = fields.List(fields.Nested(MentorStatusSchema), required=True)
    pagination = fields.Nested(ListPaginationSchema, required=True)


class PauseRecordListSchema(ma.Schema):
    data = fields.List(fields.Nested(PauseRecordSchema), required=True)
    pagination = fields.Nested(ListPaginationSchema, required=True)


# The change log


# Errors


