"""List cursors: where a keyset walk of a list goes on, as an opaque string bound to the list, its
filters and its sort.

A cursor is base64url of `<payload>.<check>`: the payload is a compact JSON array (format, the
list's binding, the position after the last row listed), the check a keyed BLAKE2b digest of it
(a MAC) with the database's own secret key, made once per database by a migration and read once
per process. A cursor that was altered, cut short, made for another list, other filters or
another sort, by another database, or by anyone without the key, fails to decode and is a 422
naming `cursor`. Every value is still checked for its type before it reaches SQL.
"""
import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import re
from typing import NamedTuple

from ..db import database
from ..errors import INVALID_MESSAGE, DomainError
from ..web.schemas import MENTOR_ID_PATTERN

_FORMAT = 1
_SQL_TIME = "%Y-%m-%d %H:%M:%S"
_SQL_TIME_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_LARGEST_ID = 2**63 - 1
_MENTOR_ID = re.compile(MENTOR_ID_PATTERN)


class InvalidCursor(DomainError):
    code = 422

    def __init__(self, problem="Not a cursor of this list with these filters and this sort."):
        super().__init__(INVALID_MESSAGE, {"query": {"cursor": [problem]}})


class Position(NamedTuple):
    """Just after a row of a sorted list: `nulls` when that row's sort value was null (the rows
    whose value is null come after every other, ordered by the tie key alone), its sort `value`
    (None for the default sort, whose key is the tie key) and its `tie` key."""

    nulls: bool
    value: dt.datetime | None
    tie: str | int


def binding(list_name, sort, filters):
    """What a cursor is made for: the list, its sort and its filters, as one canonical text."""
    canonical = {name: _canonical(value) for name, value in sorted(filters.items()) if value is not None}
    return json.dumps([list_name, sort, canonical], separators=(",", ":"), sort_keys=True)


def _canonical(value):
    """A filter's value as JSON text: a datetime to the second, a window (a tuple of two) as a list."""
    if isinstance(value, dt.datetime):
        return value.strftime(_SQL_TIME)
    if isinstance(value, tuple):
        return [_canonical(each) for each in value]
    return value


def encode(bound, position):
    value = position.value
    if value is not None and not isinstance(value, str):
        value = value.strftime(_SQL_TIME)
    payload = json.dumps([_FORMAT, _bound_digest(bound), int(position.nulls), value, position.tie],
                         separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload + b"." + _check(payload)).decode().rstrip("=")


def decode(text, bound, tie_type):
    """The position `text` names in the list `bound` describes; InvalidCursor if it names none.
    `tie_type`: str (mentor ids) or int (pause record numbers)."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        payload, _, check = raw.rpartition(b".")
        if not payload or not hmac.compare_digest(check, _check(payload)):
            raise InvalidCursor()
        version, digest, nulls, value, tie = json.loads(payload)
    except (binascii.Error, ValueError, TypeError, UnicodeError):
        raise InvalidCursor() from None
    if version != _FORMAT or digest != _bound_digest(bound):
        raise InvalidCursor()
    if nulls not in (0, 1) or type(tie) is not tie_type:
        raise InvalidCursor()
    if (tie_type is int and not 0 <= tie <= _LARGEST_ID) or (tie_type is str and not _MENTOR_ID.fullmatch(tie)):
        raise InvalidCursor()
    if value is not None:
        if not isinstance(value, str) or not _SQL_TIME_PATTERN.fullmatch(value):
            raise InvalidCursor()
        try:
            value = dt.datetime.strptime(value, _SQL_TIME)
        except ValueError:
            raise InvalidCursor() from None
    return Position(bool(nulls), value, tie)


def _bound_digest(bound):
    return hashlib.blake2b(bound.encode(), digest_size=8).hexdigest()


def _check(payload):
    return base64.urlsafe_b64encode(hashlib.blake2b(payload, key=_key(), digest_size=12).digest())


def _key():
    """This database's cursor key (migration 0009), kept on the database object once read."""
    db = database.obj
    key = getattr(db, "cursor_key", None)
    if key is None:
        key = db.cursor_key = bytes.fromhex(
            db.execute_sql("SELECT value FROM service_key WHERE name = 'cursor'").fetchone()[0])
    return key
