"""Schemas of the change log: an entry, a mentor's history, the feed and its 410. Shape checks only."""
import marshmallow as ma
from marshmallow import fields, validate

from ..web.schemas import ErrorSchema, PaginationSchema, QueryInteger, UtcDateTime, mentor_id_field
from .models import ChangeEntry

MAX_CHANGE_ID = 2**63 - 1  # a BIGINT


class ChangeEntrySchema(ma.Schema):
    change_id = fields.Integer(required=True, metadata={"example": 1042})
    at = UtcDateTime(required=True, metadata={"example": "2026-11-29T08:00:00Z"})
    actor = fields.String(required=True, metadata={"description": "The name of the token that made the change, "
                                                                  "anonymous, or job:<command>",
                                                   "example": "hr-sync"})
    request_id = fields.String(required=True, metadata={"example": "9f1c2d0e8a7b4c3d9e8f7a6b5c4d3e2f"})
    resource = fields.String(required=True, validate=validate.OneOf(ChangeEntry.RESOURCES),
                             metadata={"example": "mentor_status"})
    id = fields.String(required=True, metadata={"description": "The mentor_id or pause_record_id changed",
                                                "example": "mentor-042"})
    mentor_id = fields.String(required=True, metadata={"example": "mentor-042"})
    event = fields.String(required=True, validate=validate.OneOf(ChangeEntry.EVENTS), metadata={
        "description": "created, updated or deleted; for a pause record also the notices return_due and overdue, "
                       "which change nothing (before and after are the pause as it is)",
        "example": "updated"})
    before = fields.Dict(required=True, allow_none=True, metadata={
        "description": "The resource as a GET showed it before the change; null when created, and in the "
                       "entries that erase a deleted mentor"})
    after = fields.Dict(required=True, allow_none=True, metadata={
        "description": "The resource as a GET shows it after the change; null when deleted"})


class HistorySchema(ma.Schema):
    data = fields.List(fields.Nested(ChangeEntrySchema), required=True)
    pagination = fields.Nested(PaginationSchema, required=True)


class ChangeFeedArgsSchema(ma.Schema):
    after = QueryInteger(load_default=0, validate=validate.Range(min=0, max=MAX_CHANGE_ID), metadata={
        "description": "Entries with a larger change_id: 0 from the start, then each answer's next_after"})
    limit = QueryInteger(load_default=100, validate=validate.Range(min=1, max=1000))
    resource = fields.String(validate=validate.OneOf(ChangeEntry.RESOURCES))
    mentor_id = mentor_id_field()


class ChangeFeedSchema(ma.Schema):
    data = fields.List(fields.Nested(ChangeEntrySchema), required=True)
    next_after = fields.Integer(required=True, metadata={
        "description": "The change_id of the last entry returned, or after when none was: send it back as after",
        "example": 1042})


class FeedPrunedSchema(ErrorSchema):
    head = fields.Integer(required=True, metadata={"description": "The feed's latest change_id: read the lists "
                                                                 "afresh, then follow the feed from here",
                                                  "example": 5120})
