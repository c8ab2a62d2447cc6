"""/api/v1/pause-records: the history of every pause."""
from flask import url_for
from flask.views import MethodView

from ..db import utc_now
from ..web import auth
from ..web.api import LINK_HEADER, ApiBlueprint
from ..web.etags import ETAG_HEADER, if_match
from ..web.rendering import respond
from . import calendars, exports, reads, rendering, rules
from .schemas import (
    PauseRecordCreateSchema,
    PauseRecordDeletedSchema,
    PauseRecordListArgsSchema,
    PauseRecordListSchema,
    PauseRecordSchema,
    PauseRecordUpdateSchema,
)

blp = ApiBlueprint("pause_records", __name__, url_prefix="/api/v1/pause-records",
                   description="Every pause of every mentor: when it began, when the mentor is expected back, "
                               "when it ended and why.")
auth.accept_calendar_key("pause_records.PauseRecords", calendars.is_calendar_request)
LOCATION_HEADER = {"Location": {"description": "URL of the new pause record", "schema": {"type": "string"}}}


@blp.route("", strict_slashes=False)
class PauseRecords(MethodView):
    @blp.arguments(PauseRecordListArgsSchema(), location="query")
    @blp.response(200, PauseRecordListSchema, headers={**ETAG_HEADER, **LINK_HEADER})
    @blp.doc(responses={200: {"content": {**exports.csv_content(exports.PAUSE_RECORD_FIELDS),
                                          **calendars.CALENDAR_CONTENT}}})
    @blp.read("listPauseRecords")
    def get(self, args):
        """List pause records

        Ordered by sequence number, or by `sort`; `page` and `limit` choose the page, or `cursor`
        continues from `next_cursor`. Filters combine; an unknown parameter is a 422. As CSV
        (`Accept: text/csv` or `format=csv`): every matching row, in order, unpaged. As an iCalendar
        (`Accept: text/calendar` or `format=ics`): one event per matching pause, unpaged; there
        `key` (a calendar key) may stand in for a read token.
        """
        args.pop("key", None)  # a calendar key: auth.authorize has taken it
        if calendars.wants_calendar(args):
            now = utc_now()
            return calendars.calendar_response(reads.export_pause_records(now=now, calendar=True, **args), now)
        return exports.list_or_csv(args, rendering.PAUSE_RECORD, reads.list_pause_records,
                                   reads.export_pause_records, "pause-records.csv")

    @blp.arguments(PauseRecordCreateSchema(), example={"mentor_id": "mentor-042", "start_date": "2026-03-26T00:00:00Z",
                                                     "expected_return_date": "2026-05-01T00:00:00Z",
                                                     "reason": "personal_leave"})
    @blp.response(201, PauseRecordSchema, headers={**LOCATION_HEADER, **ETAG_HEADER})
    @blp.write("createPauseRecord", 409)
    def post(self, fields):
        """Create a pause record

        Without `end_date` it opens an active pause and the mentor becomes paused (409 if the
        mentor already has one). A `start_date` later than now schedules it: the mentor pauses
        then. An `end_date` later than now ends it then; one not later than now records a past
        pause that changes nothing else. Scheduled and active pauses of a mentor never overlap (409).
        """
        record = rules.create_pause_record(fields)
        location = url_for(".PauseRecord", pause_record_id=record.pause_record_id)
        return respond(rendering.pause_record(record)), 201, {"Location": location}


@blp.route("/<pause_record_id>")
class PauseRecord(MethodView):
    @blp.response(200, PauseRecordSchema, headers=ETAG_HEADER)
    @blp.read("getPauseRecord", 404)
    def get(self, pause_record_id):
        """Get one pause record"""
        return respond(rendering.pause_record_row(reads.get_pause_record(pause_record_id)))

    @blp.arguments(PauseRecordUpdateSchema(), example={"end_date": "2026-04-15T00:00:00Z", "is_active": False})
    @blp.response(200, PauseRecordSchema, headers=ETAG_HEADER)
    @blp.write("updatePauseRecord", 404, 409, conditional=True)
    def put(self, sent, pause_record_id):
        """Close, reopen or update a pause record

        The pause moves to the state its dates give. Closing the active pause (`is_active: false`,
        or an `end_date` not later than now; `end_date` defaults to now) makes the mentor active.
        Reopening (`is_active: true`, `end_date: null`, or an `end_date` later than now on an ended
        pause) pauses the mentor again, a 409 if it has another active pause. A `start_date` later
        than now schedules the pause again; on a scheduled pause `is_active` is a 409.
        """
        record = rules.update_pause_record(pause_record_id, sent, if_match(rendering.pause_record))
        return respond(rendering.pause_record(record))

    @blp.response(200, PauseRecordDeletedSchema)
    @blp.write("deletePauseRecord", 404, conditional=True, body=False)
    def delete(self, pause_record_id):
        """Delete a pause record

        Deleting the active pause makes the mentor active.
        """
        rules.delete_pause_record(pause_record_id, if_match(rendering.pause_record))
        return {"deleted": True, "pause_record_id": pause_record_id}
