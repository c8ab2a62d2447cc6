"""How the API's resources become response bytes: documents built straight from models or rows, and
Flask's JSON provider, orjson.

A document here decodes to exactly what the resource's response schema dumps (tests/test_rendering.py
proves it over generated resources); the schemas stay what documents the API and checks requests.
Stored JSON (a mentor's metadata, a change entry's before and after) was written by `json.dumps` from a
value the request parser accepted, so it is passed through as an `orjson.Fragment`, never parsed again.
"""
import orjson
from flask import current_app
from flask.json.provider import DefaultJSONProvider

from .models import PAUSE_RECORD_ID_PREFIX, MentorStatus

_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
_SQL_TIME_LENGTH = len("2026-01-01 00:00:00")


class JSONProvider(DefaultJSONProvider):
    """Flask's default provider, writing with orjson. What orjson refuses and the standard library
    writes (integers beyond 64 bits, strings with lone surrogates) falls back to the default, so
    every response reads as before; reading JSON stays the standard library's."""

    def dumps(self, obj, **kwargs):
        if not kwargs:
            try:
                return self._orjson(obj).decode()
            except orjson.JSONEncodeError:
                pass
        return super().dumps(obj, **kwargs)

    def response(self, *args, **kwargs):
        if (self.compact is None and current_app.debug) or self.compact is False or (args and kwargs):
            return super().response(*args, **kwargs)
        obj = (args[0] if len(args) == 1 else args) if args else (kwargs or None)  # as jsonify() takes them
        try:
            body = self._orjson(obj) + b"\n"
        except orjson.JSONEncodeError:
            return super().response(obj)
        return current_app.response_class(body, mimetype=self.mimetype)

    def _orjson(self, obj):
        options = _ORJSON_OPTIONS | (orjson.OPT_SORT_KEYS if self.sort_keys else 0)
        return orjson.dumps(obj, default=self.default, option=options)


def respond(document, status=200, headers=None):
    """A JSON response of `document`, a dict of this module's documents and plain values."""
    return current_app.response_class(body(document), status=status, headers=headers,
                                      mimetype="application/json")


def body(document):
    """The bytes of a response of `document`, as Flask's `jsonify` ends them."""
    return orjson.dumps(document) + b"\n"


def api_time(value):
    """A stored timestamp as `UtcDateTime` writes it: a datetime, or SQLite's text of one."""
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == _SQL_TIME_LENGTH and value[10] == " ":
            return f"{value[:10]}T{value[11:]}Z"
        value = MentorStatus.created_at.python_value(value)  # Peewee's parsing, as a model read does it
    return value.replace(microsecond=0).isoformat() + "Z"


def stored_json(text):
    return None if text is None else orjson.Fragment(text)


# Mentor statuses

def mentor_status(mentor):
    """A `MentorStatus` model (its `active_pause` set) as MentorStatusSchema dumps it."""
    pause = mentor.active_pause
    if pause is None:
        return _mentor(mentor.mentor_id, mentor.base_status, False, None, None, None, mentor.metadata_json,
                       mentor.created_at, mentor.last_updated)
    return _mentor(mentor.mentor_id, "paused", True, pause.start_date, pause.expected_return_date, pause.reason,
                   mentor.metadata_json, mentor.created_at, mentor.last_updated)


def mentor_status_row(row):
    """A row of `queries.MENTOR_COLUMNS` as MentorStatusSchema dumps the mentor."""
    mentor_id, base_status, metadata_json, created_at, last_updated, pause_id, start, expected, reason = row
    if pause_id is None:
        return _mentor(mentor_id, base_status, False, None, None, None, metadata_json, created_at, last_updated)
    return _mentor(mentor_id, "paused", True, start, expected, reason, metadata_json, created_at, last_updated)


def _mentor(mentor_id, status, is_paused, start, expected, reason, metadata_json, created_at, last_updated):
    return {"mentor_id": mentor_id, "status": status, "is_paused": is_paused, "pause_start_date": api_time(start),
            "expected_return_date": api_time(expected), "pause_reason": reason,
            "metadata": orjson.Fragment(metadata_json), "created_at": api_time(created_at),
            "last_updated": api_time(last_updated)}


# Pause records

def pause_record(record):
    """A `PauseRecord` model as PauseRecordSchema dumps it."""
    return _pause_record(record.id, record.mentor_id, record.start_date, record.expected_return_date,
                         record.end_date, record.reason, record.created_at)


def pause_record_row(row):
    """A row of `queries.PAUSE_RECORD_COLUMNS` as PauseRecordSchema dumps the record."""
    return _pause_record(*row)


def _pause_record(number, mentor_id, start, expected, end, reason, created_at):
    return {"pause_record_id": f"{PAUSE_RECORD_ID_PREFIX}{number:04d}", "mentor_id": mentor_id,
            "start_date": api_time(start), "expected_return_date": api_time(expected), "end_date": api_time(end),
            "is_active": end is None, "reason": reason, "created_at": api_time(created_at)}


# The change log

def change_entry_row(row):
    """A row of `ChangeEntry.READ_COLUMNS` as ChangeEntrySchema dumps the entry."""
    change_id, at, actor, request_id, resource, resource_id, mentor_id, event, before, after = row
    return {"change_id": change_id, "at": api_time(at), "actor": actor, "request_id": request_id,
            "resource": resource, "id": resource_id, "mentor_id": mentor_id, "event": event,
            "before": stored_json(before), "after": stored_json(after)}


def list_page(rows, render_row, page, limit, total):
    """The response of a list page: `rows` rendered by `render_row`, in the envelope every list has."""
    return respond({"data": [render_row(row) for row in rows],
                    "pagination": {"page": page, "limit": limit, "total": total}})


def list_response(rows, render_row, args, total, next_cursor):
    """The response of a page of a list (mentor statuses, pause records) asked for with `args`:
    `pagination` names the page unless a cursor asked for it, and always the next cursor."""
    pagination = {"limit": args["limit"], "total": total, "next_cursor": next_cursor}
    if "cursor" not in args:
        pagination = {"page": args["page"], **pagination}
    return respond({"data": [render_row(row) for row in rows], "pagination": pagination})
