"""/api/v1/pause-records: the history of every pause."""
from flask import url_for
from flask.views import MethodView

from . import pausing
from .schemas import (PauseRecordCreateSchema, PauseRecordDeletedSchema, PauseRecordListArgsSchema,
                      PauseRecordListSchema, PauseRecordSchema, PauseRecordUpdateSchema)
from .write_guard import ApiBlueprint

blp = ApiBlueprint("pause_records", __name__, url_prefix="/api/v1/pause-records",
                description="Every pause of every mentor: when it began, when the mentor is expected back, "
                            "when it ended and why.")


@blp.route("", strict_slashes=False)
class PauseRecords(MethodView):
    @blp.arguments(PauseRecordListArgsSchema, location="query")
    @blp.response(200, PauseRecordListSchema)
    def get(self, args):
        """List pause records

        Ordered by sequence number; `page` and `limit` choose the page.
        """
        page, limit = args.pop("page"), args.pop("limit")
        return pausing.list_pause_records(page, limit, **args)

    @blp.arguments(PauseRecordCreateSchema, example={"mentor_id": "mentor-042", "start_date": "2026-03-26T00:00:00Z",
                                                     "expected_return_date": "2026-05-01T00:00:00Z",
                                                     "reason": "personal_leave"})
    @blp.response(201, PauseRecordSchema, headers={"Location": {"description": "URL of the new pause record",
                                                                "schema": {"type": "string"}}})
    @blp.write_errors(409)
    def post(self, fields):
        """Create a pause record

        Without `end_date` it opens an active pause and the mentor becomes paused (409 if the
        mentor already has one). With an `end_date` it records a past pause and changes nothing else.
        """
        record = pausing.create_pause_record(fields)
        return record, 201, {"Location": url_for(".PauseRecord", pause_record_id=record.pause_record_id)}


@blp.route("/<pause_record_id>")
class PauseRecord(MethodView):
    @blp.response(200, PauseRecordSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, pause_record_id):
        """Get one pause record"""
        return pausing.get_pause_record(pause_record_id)

    @blp.arguments(PauseRecordUpdateSchema, example={"end_date": "2026-04-15T00:00:00Z", "is_active": False})
    @blp.response(200, PauseRecordSchema)
    @blp.write_errors(404, 409)
    def put(self, changes, pause_record_id):
        """Close, reopen or update a pause record

        Closing the active pause (`is_active: false` and/or an `end_date`; `end_date` defaults to
        now) makes the mentor active. Reopening (`is_active: true` or `end_date: null`) pauses the
        mentor again, a 409 if it has another active pause.
        """
        return pausing.update_pause_record(pause_record_id, changes)

    @blp.response(200, PauseRecordDeletedSchema)
    @blp.write_errors(404)
    def delete(self, pause_record_id):
        """Delete a pause record

        Deleting the active pause makes the mentor active.
        """
        pausing.delete_pause_record(pause_record_id)
        return {"deleted": True, "pause_record_id": pause_record_id}
