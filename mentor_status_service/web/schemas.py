"""What the schemas of every blueprint share: the fields of dates, booleans, integers and ids as the
API reads and writes them, pages, and the body of every error. Shape checks only, no queries."""
import datetime as dt

import marshmallow as ma
from marshmallow import ValidationError, fields, pre_load, validate
from peewee import DateTimeField

from ..errors import INVALID_MESSAGE

MAX_PAGE = 2**31 - 1


class FullMatch(validate.Regexp):
    """`validate.Regexp` that must match the whole value (`$` alone lets a final newline through)."""

    def __call__(self, value):
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self.error.format(input=value, regex=self.regex.pattern))
        return value


_STORED_TIME = DateTimeField()
_SQL_TIME_LENGTH = len("2026-01-01 00:00:00")
_DATETIME = dt.datetime


def api_time(value):
    """The API's date format, `YYYY-MM-DDTHH:MM:SSZ`, of a stored timestamp: a naive UTC datetime, or
    SQLite's text of one as a row holds it; None for None. `UtcDateTime` writes it, and so does
    every document and CSV cell (shapes.py)."""
    kind = value.__class__  # the common cases first: a page calls this a few times a row
    if kind is str:
        if len(value) == _SQL_TIME_LENGTH and value[10] == " ":
            return f"{value[:10]}T{value[11:]}Z"
    elif kind is _DATETIME and not value.microsecond:
        return value.isoformat() + "Z"
    if value is None:
        return None
    if isinstance(value, str):
        value = _STORED_TIME.python_value(value)  # Peewee's parsing, as a model read does it
    return value.replace(microsecond=0).isoformat() + "Z"


class UtcDateTime(fields.DateTime):
    """Reads ISO 8601 datetimes (any offset, none meaning UTC) and plain dates; holds naive UTC to
    the second, the precision the API returns; writes `YYYY-MM-DDTHH:MM:SSZ`."""

    default_error_messages = {"invalid": "Not a valid ISO 8601 datetime or date."}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            parsed = dt.datetime.fromisoformat(value)
            if parsed.tzinfo is not None:
                parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
        except (ValueError, OverflowError) as error:
            raise self.make_error("invalid") from error
        return parsed.replace(microsecond=0)

    def _serialize(self, value, attr, obj, **kwargs):
        return api_time(value)


class StrictBoolean(fields.Boolean):
    """JSON `true` or `false` only: not 1, "yes" or "true"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is True or value is False:
            return value
        raise self.make_error("invalid")


class QueryInteger(fields.Integer):
    """Digits only: not `1_0`, ` 5 ` or other digits that Python's int() would take."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and not (value.isascii() and value.isdigit()):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class QueryBoolean(fields.Boolean):
    truthy = {"true", "1"}
    falsy = {"false", "0"}


def mentor_id_field(**kwargs):
    return fields.String(validate=FullMatch(MENTOR_ID_PATTERN, error="Must be 1 to 64 letters, digits or -_.:@, "
                                                                      "starting with a letter or digit."), **kwargs)


class RejectReadOnly:
    """Names read-only fields sent in a request as such (marshmallow would call them unknown),
    beside any field that is unknown."""

    read_only_fields = ()

    @pre_load
    def reject_read_only(self, data, **kwargs):
        if isinstance(data, dict):
            read_only = [name for name in self.read_only_fields if name in data]
            if read_only:
                errors = {name: ["Read-only field: it cannot be changed."] for name in read_only}
                errors.update({name: ["Unknown field."] for name in data
                               if name not in self.fields and name not in read_only})
                raise ValidationError(errors)
        return data


class PageArgsSchema(ma.Schema):
    page = QueryInteger(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    limit = QueryInteger(load_default=20, validate=validate.Range(min=1, max=100))


class PaginationSchema(ma.Schema):
    page = fields.Integer(required=True, metadata={"example": 1})
    limit = fields.Integer(required=True, metadata={"example": 20})
    total = fields.Integer(required=True, metadata={"example": 87})


class ErrorSchema(ma.Schema):
    """The body of every error response."""

    code = fields.Integer(required=True, metadata={"example": 422})
    status = fields.String(required=True, metadata={"example": "Unprocessable Entity"})
    message = fields.String(required=True, metadata={"example": INVALID_MESSAGE})
    errors = fields.Dict(
        keys=fields.String(metadata={"description": "Where: json (the body), query, headers, csv (a CSV body's "
                                                    "header row) or rows (of a bulk load)"}),
        # Problems are a list of strings; a bulk load's `rows` hold {field: [problems]} for each row number.
        values=fields.Dict(keys=fields.String(), values=fields.Raw(metadata={
            "description": "The problems, a list of strings; under rows, {field: [problems]} for each row number"})),
        metadata={"description": "Present when fields or parameters are at fault: each one named, with its "
                                 "problems", "example": {"json": {"mentor_id": ["Missing data for required field."]}}})


MENTOR_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$"
