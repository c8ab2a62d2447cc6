"""/api/v1/mentor-statuses: the collection, one mentor's status, and its history."""
from flask import url_for
from flask.views import MethodView

from ..changes.rendering import change_entry_row
from ..changes.schemas import HistorySchema
from ..web.api import CSV_BODY_MIMETYPE, LINK_HEADER, ApiBlueprint
from ..web.etags import ETAG_HEADER, if_match
from ..web.links import page_links
from ..web.rendering import list_page, respond
from ..web.schemas import PageArgsSchema
from . import exports, imports, reads, rendering, rules
from .schemas import (
    MentorStatusCreateSchema,
    MentorStatusDeletedSchema,
    MentorStatusImportArgsSchema,
    MentorStatusImportResultSchema,
    MentorStatusListArgsSchema,
    MentorStatusListSchema,
    MentorStatusSchema,
    MentorStatusUpdateSchema,
)

blp = ApiBlueprint("mentor_statuses", __name__, url_prefix="/api/v1/mentor-statuses",
                   description="Whether each mentor is active, paused or inactive, and who changed what.",
                   delete_scope="admin")  # its one DELETE erases a mentor's history
LOCATION_HEADER = {"Location": {"description": "URL of the new mentor status", "schema": {"type": "string"}}}


@blp.route("", strict_slashes=False)
class MentorStatuses(MethodView):
    @blp.arguments(MentorStatusListArgsSchema(), location="query")
    @blp.response(200, MentorStatusListSchema, headers={**ETAG_HEADER, **LINK_HEADER})
    @blp.doc(responses={200: {"content": exports.csv_content(exports.MENTOR_STATUS_FIELDS)}})
    @blp.read("listMentorStatuses")
    def get(self, args):
        """List mentor statuses

        Ordered by `mentor_id` in byte order, or by `sort`; `page` and `limit` choose the page, or
        `cursor` continues from `next_cursor`. Filters combine; an unknown parameter is a 422. As
        CSV (`Accept: text/csv` or `format=csv`): every matching row, in order, unpaged.
        """
        return exports.list_or_csv(args, rendering.MENTOR_STATUS, reads.list_mentor_statuses,
                                   reads.export_mentor_statuses, "mentor-statuses.csv")

    @blp.arguments(MentorStatusCreateSchema(), example={"mentor_id": "mentor-099", "status": "active",
                                                      "is_paused": False})
    @blp.response(201, MentorStatusSchema, headers={**LOCATION_HEADER, **ETAG_HEADER})
    @blp.write("createMentorStatus", 409)
    def post(self, fields):
        """Create a mentor status

        A mentor created paused gets an active pause record at once. An existing `mentor_id` is a 409.
        """
        mentor = rules.create_mentor_status(fields)
        location = url_for(".MentorStatus", mentor_id=mentor.mentor_id)
        return respond(rendering.mentor_status(mentor)), 201, {"Location": location}


IMPORT_ROWS = {"type": "array", "maxItems": imports.MAX_ROWS,
               "description": "Each a mentor status as POST takes it",
               "items": {"$ref": "#/components/schemas/MentorStatusCreate"}}
IMPORT_CSV = {"type": "string", "description": "RFC 4180 CSV whose header row names fields as the CSV export does "
                                               "(created_at and last_updated ignored); an empty cell is an absent "
                                               "field"}
IMPORT_BODY = {"required": True, "content": {
    "application/json": {
        "schema": {"type": "object", "required": ["mentors"], "properties": {"mentors": IMPORT_ROWS}},
        "example": {"mentors": [{"mentor_id": "mentor-100", "status": "active"},
                                {"mentor_id": "mentor-101", "status": "paused", "pause_reason": "personal_leave"}]}},
    CSV_BODY_MIMETYPE: {"schema": IMPORT_CSV, "example": "mentor_id,status,pause_reason\r\nmentor-100,active,\r\n"}}}


@blp.bulk_body(imports.MAX_BYTES)
@blp.route("/import")
class MentorStatusImport(MethodView):
    @blp.arguments(MentorStatusImportArgsSchema(), location="query")
    @blp.response(200, MentorStatusImportResultSchema)
    @blp.doc(requestBody=IMPORT_BODY)
    @blp.write("importMentorStatuses", 409)
    def post(self, args):
        """Load many mentor statuses at once

        A JSON body `{"mentors": [...]}` or a CSV body (as the list's CSV export writes it), of at
        most 10,000 rows and 8 MiB. All or nothing: if any row is invalid, a 422 lists every
        invalid row by its number (from 1) in `errors.rows`, and nothing is written. Each mentor
        created or changed gets the change entries a single write would.
        """
        return imports.import_mentor_statuses(args["mode"], args["dry_run"])


@blp.route("/<mentor_id>")
class MentorStatus(MethodView):
    @blp.response(200, MentorStatusSchema, headers=ETAG_HEADER)
    @blp.read("getMentorStatus", 404)
    def get(self, mentor_id):
        """Get one mentor's status"""
        return respond(rendering.mentor_status_row(reads.get_mentor_status(mentor_id)))

    @blp.arguments(MentorStatusUpdateSchema(), example={
        "status": "paused", "is_paused": True, "pause_start_date": "2026-03-26T00:00:00Z",
        "expected_return_date": "2026-05-01T00:00:00Z", "pause_reason": "personal_leave",
        "metadata": {"initiated_by": "coordinator-007", "notes": "Mentor requested leave"}})
    @blp.response(200, MentorStatusSchema, headers=ETAG_HEADER)
    @blp.write("updateMentorStatus", 404, conditional=True)
    def put(self, sent, mentor_id):
        """Update a mentor's status

        A partial update: only the fields sent change. Pausing opens a pause record, changing the
        pause fields changes it, and leaving `paused` closes it.
        """
        mentor = rules.update_mentor_status(mentor_id, sent, if_match(rendering.mentor_status))
        return respond(rendering.mentor_status(mentor))

    @blp.response(200, MentorStatusDeletedSchema)
    @blp.write("deleteMentorStatus", 404, conditional=True, body=False)
    def delete(self, mentor_id):
        """Delete a mentor status and its pause records

        Its change history is erased too: the feed keeps only entries saying that it and each of
        its pause records were deleted. Once an admin token is configured, only an admin token may
        do this (a write token gets 403).
        """
        rules.delete_mentor_status(mentor_id, if_match(rendering.mentor_status))
        return {"deleted": True, "mentor_id": mentor_id}


@blp.route("/<mentor_id>/history")
class MentorStatusHistory(MethodView):
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, HistorySchema, headers={**ETAG_HEADER, **LINK_HEADER})
    @blp.read("getMentorStatusHistory", 404)
    def get(self, args, mentor_id):
        """List one mentor's changes, newest first

        Every change to the mentor and to its pause records, each with who made it and the resource
        before and after.
        """
        page, limit = args["page"], args["limit"]
        rows, total = reads.mentor_history(mentor_id, page, limit)
        response = list_page(rows, change_entry_row, page, limit, total)
        return response, page_links(page, limit, total)
