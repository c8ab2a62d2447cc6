"""/api/v1/mentor-statuses: the collection and one mentor's status."""
from flask import url_for
from flask.views import MethodView

from . import pausing
from .api_blueprint import ETAG_HEADER, ApiBlueprint, if_match
from .schemas import (
    MentorStatusCreateSchema,
    MentorStatusDeletedSchema,
    MentorStatusListArgsSchema,
    MentorStatusListSchema,
    MentorStatusSchema,
    MentorStatusUpdateSchema,
)

blp = ApiBlueprint("mentor_statuses", __name__, url_prefix="/api/v1/mentor-statuses",
                   description="Whether each mentor is active, paused or inactive.")
LOCATION_HEADER = {"Location": {"description": "URL of the new mentor status", "schema": {"type": "string"}}}


@blp.route("", strict_slashes=False)
class MentorStatuses(MethodView):
    @blp.arguments(MentorStatusListArgsSchema, location="query")
    @blp.response(200, MentorStatusListSchema, headers=ETAG_HEADER)
    @blp.read
    def get(self, args):
        """List mentor statuses

        Ordered by `mentor_id` in byte order; `page` and `limit` choose the page. Filters combine.
        """
        page, limit = args.pop("page"), args.pop("limit")
        return pausing.list_mentor_statuses(page, limit, **args)

    @blp.arguments(MentorStatusCreateSchema, example={"mentor_id": "mentor-099", "status": "active",
                                                      "is_paused": False})
    @blp.response(201, MentorStatusSchema, headers={**LOCATION_HEADER, **ETAG_HEADER})
    @blp.write_errors(409)
    def post(self, fields):
        """Create a mentor status

        A mentor created paused gets an active pause record at once. An existing `mentor_id` is a 409.
        """
        mentor = pausing.create_mentor_status(fields)
        return mentor, 201, {"Location": url_for(".MentorStatus", mentor_id=mentor.mentor_id)}


@blp.route("/<mentor_id>")
class MentorStatus(MethodView):
    @blp.response(200, MentorStatusSchema, headers=ETAG_HEADER)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.read
    def get(self, mentor_id):
        """Get one mentor's status"""
        return pausing.get_mentor_status(mentor_id)

    @blp.arguments(MentorStatusUpdateSchema, example={
        "status": "paused", "is_paused": True, "pause_start_date": "2026-03-26T00:00:00Z",
        "expected_return_date": "2026-05-01T00:00:00Z", "pause_reason": "personal_leave",
        "metadata": {"initiated_by": "coordinator-007", "notes": "Mentor requested leave"}})
    @blp.response(200, MentorStatusSchema, headers=ETAG_HEADER)
    @blp.write_errors(404, conditional=True)
    def put(self, changes, mentor_id):
        """Update a mentor's status

        A partial update: only the fields sent change. Pausing opens a pause record, changing the
        pause fields changes it, and leaving `paused` closes it.
        """
        return pausing.update_mentor_status(mentor_id, changes, if_match(MentorStatusSchema()))

    @blp.response(200, MentorStatusDeletedSchema)
    @blp.write_errors(404, conditional=True, body=False)
    def delete(self, mentor_id):
        """Delete a mentor status and its pause records"""
        pausing.delete_mentor_status(mentor_id, if_match(MentorStatusSchema()))
        return {"deleted": True, "mentor_id": mentor_id}
