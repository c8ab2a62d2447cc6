"""How the API's resources become response bytes: documents built straight from models or rows, and
Flask's JSON provider, orjson.

A document here decodes to exactly what the resource's response schema dumps (tests/unit/test_rendering.py
proves it over generated resources); the schemas stay what documents the API and checks requests.
Stored JSON (a mentor's metadata, a change entry's before and after) was written by `json.dumps` from a
value the request parser accepted, so it is passed through as an `orjson.Fragment`, never parsed again.
"""
import orjson

from ..web.rendering import api_time
from .models import PAUSE_RECORD_ID_PREFIX

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
                         record.end_date, record.reason, record.created_at, record.state)


def pause_record_row(row):
    """A row of `queries.PAUSE_RECORD_COLUMNS` as PauseRecordSchema dumps the record."""
    return _pause_record(*row)


def _pause_record(number, mentor_id, start, expected, end, reason, created_at, state):
    return {"pause_record_id": f"{PAUSE_RECORD_ID_PREFIX}{number:04d}", "mentor_id": mentor_id,
            "start_date": api_time(start), "expected_return_date": api_time(expected), "end_date": api_time(end),
            "is_active": state == "active", "state": state, "reason": reason, "created_at": api_time(created_at)}


# The change log


