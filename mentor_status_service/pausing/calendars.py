"""The pause-record list as an iCalendar (RFC 5545) that Google Calendar, Outlook and other clients
subscribe to: which requests want it, one event per pause, and a body streamed as the CSV export is.

Built with the `icalendar` package. Each event's UID is `<pause_record_id>@<CALENDAR_DOMAIN>`; it
runs over the pause's span (windows.py): DTSTART its start, DTEND the span's end when it has one.
SEQUENCE and LAST-MODIFIED move with each change of the pause (its `version` and `modified_at`,
kept by the database) and stay while it does not change. A pause's span may also change with no
write: an active pause whose expected return passes becomes open-ended. That is a change a client
must see too, so SEQUENCE is twice the version, plus one while the span is open for that reason
(still increasing: the next write makes it 2 × (version + 1)), and LAST-MODIFIED is then the
expected return. DTSTAMP, with no METHOD in the calendar, is when the event was last revised: the
same as LAST-MODIFIED. The reason shows only with CALENDAR_SHOW_REASON=true.
"""
import datetime as dt

import icalendar
from flask import current_app, request

from ..web.export_streams import streamed_batches
from . import exports
from .models import PAUSE_RECORD_ID_PREFIX, PauseRecord
from .windows import span_end

CALENDAR_MIMETYPE = "text/calendar"
PRODUCT_ID = "-//mentor-status-service//pause records//EN"
CALENDAR_NAME = "Mentor pauses"
# What the 200 of the pause-record list documents beside JSON and CSV.
CALENDAR_CONTENT = {CALENDAR_MIMETYPE: {"schema": {"type": "string", "description": "RFC 5545 iCalendar: one "
                                                   "VEVENT per pause record"},
                                        "example": "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n...END:VCALENDAR\r\n"}}


def is_calendar_request():
    """Whether this request asks for the calendar: `format=ics`, or no `format` and an Accept header
    that prefers text/calendar to JSON and CSV."""
    chosen = request.args.get("format")
    return chosen == "ics" or chosen is None and request.accept_mimetypes.best_match(
        ("application/json", exports.CSV_MIMETYPE, CALENDAR_MIMETYPE)) == CALENDAR_MIMETYPE


def wants_calendar(args):
    """Whether a list request asks for the calendar; if so, removes `format` and the paging from `args`."""
    if not is_calendar_request():
        return False
    for name in ("format", *exports.NOT_PAGED):
        args.pop(name, None)
    return True


def _as_datetime(value):
    """A stored timestamp as a naive datetime: SQLite's driver gives its text."""
    return PauseRecord.start_date.python_value(value) if isinstance(value, str) else value


def _utc(value):
    return value.replace(tzinfo=dt.timezone.utc)


def event(row, now, domain, show_reason):
    """A row of calendar columns (see lookups.CALENDAR_COLUMNS) as a VEVENT, its span as of `now`."""
    (number, mentor_id, start, expected, end, reason, created_at), (version, modified_at) = row[:7], row[-2:]
    start, expected, end, created_at, modified_at = map(_as_datetime, (start, expected, end, created_at, modified_at))
    finish = span_end(start, expected, end, now)
    overdue = end is None and expected is not None and finish is None  # open since its expected return passed
    revised = max(modified_at or created_at, expected) if overdue else modified_at or created_at
    component = icalendar.Event()
    component.add("uid", f"{PAUSE_RECORD_ID_PREFIX}{number:04d}@{domain}")
    component.add("dtstamp", _utc(revised))
    component.add("last-modified", _utc(revised))
    component.add("sequence", 2 * version + (1 if overdue else 0))
    component.add("dtstart", _utc(start))
    if finish is not None:
        component.add("dtend", _utc(finish))
    component.add("summary", f"{mentor_id} paused ({reason})" if show_reason and reason else f"{mentor_id} paused")
    component.add("transp", "OPAQUE")
    return component


def calendar_response(batches, now, filename="pause-records.ics"):
    """A streamed calendar of `batches` (an iterator of lists of calendar rows), batch by batch and
    within the limits every export shares (web/export_streams.py), as the CSV export is sent."""
    domain, show_reason = current_app.config["CALENDAR_DOMAIN"], current_app.config["CALENDAR_SHOW_REASON"]
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", CALENDAR_NAME)
    # The calendar's own lines, then the events, then its END line: icalendar writes the frame.
    frame = calendar.to_ical()
    end = b"END:VCALENDAR\r\n"

    def events(rows):
        return b"".join(event(row, now, domain, show_reason).to_ical() for row in rows)

    return streamed_batches(batches, events, CALENDAR_MIMETYPE, filename, "Calendar", head=frame[:-len(end)],
                            tail=end)
