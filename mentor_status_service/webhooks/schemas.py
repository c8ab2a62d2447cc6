"""Request, response and query schemas of the webhook endpoints. Shape checks only: whether a URL
may be called is decided by urls.py when the webhook is saved."""
import marshmallow as ma
from marshmallow import fields, validate

from ..changes.models import ChangeEntry
from ..changes.schemas import MAX_CHANGE_ID
from ..web.schemas import PaginationSchema, RejectReadOnly, StrictBoolean, UtcDateTime
from .models import STATUSES
from .urls import MAX_URL_LENGTH

URL_EXAMPLE = "https://hooks.example.org/mentors"


def _resource_field(**kwargs):
    return fields.String(validate=validate.OneOf(ChangeEntry.RESOURCES), allow_none=True, metadata={
        "description": "Only this resource's entries (mentor_status or pause_record); null for both"}, **kwargs)


def _description_field(**kwargs):
    return fields.String(validate=validate.Length(max=200), allow_none=True, metadata={
        "description": "What the receiver is, for the operator; at most 200 characters",
        "example": "matching service"}, **kwargs)


def _url_field(**kwargs):
    return fields.String(validate=validate.Length(min=1, max=MAX_URL_LENGTH), metadata={
        "description": "https:// (http:// only where the operator allows it), no user info, a host that resolves "
                       "only to public addresses", "example": URL_EXAMPLE}, **kwargs)


class WebhookSchema(ma.Schema):
    webhook_id = fields.String(required=True, metadata={"example": "wh-3f9c1a2b4d5e6f70"})
    url = fields.String(required=True, metadata={"example": URL_EXAMPLE})
    resource = fields.String(required=True, allow_none=True, metadata={"example": "mentor_status"})
    description = fields.String(required=True, allow_none=True, metadata={"example": "matching service"})
    status = fields.String(required=True, validate=validate.OneOf(STATUSES), metadata={"example": "enabled"})
    disabled_reason = fields.String(required=True, allow_none=True, metadata={
        "description": "Why delivery stopped, while disabled", "example": None})
    created_at = UtcDateTime(required=True, metadata={"example": "2026-12-06T08:00:00Z"})
    after = fields.Integer(required=True, attribute="delivered_through", metadata={
        "description": "The change_id of the last entry delivered (acknowledged with a 2xx): delivery goes on with "
                       "the entries after it. When created, the feed's head.", "example": 1042})


class WebhookWithSecretSchema(WebhookSchema):
    secret = fields.String(required=True, metadata={
        "description": "The signing secret, shown in this response only",
        "example": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})


class WebhookRotatedSchema(WebhookWithSecretSchema):
    previous_secret_expires_at = UtcDateTime(required=True, metadata={
        "description": "Until then the previous secret signs too (two signatures in webhook-signature)",
        "example": "2026-12-07T08:00:00Z"})


class WebhookCreateSchema(ma.Schema):
    url = _url_field(required=True)
    resource = _resource_field()
    description = _description_field()


class WebhookUpdateSchema(RejectReadOnly, ma.Schema):
    read_only_fields = ("webhook_id", "created_at", "after", "secret", "disabled_reason")

    url = _url_field()
    resource = _resource_field()
    description = _description_field()
    status = fields.String(validate=validate.OneOf(STATUSES), metadata={
        "description": "disabled stops delivery; enabled resumes it where it stopped"})


class WebhookReplaySchema(ma.Schema):
    after = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=MAX_CHANGE_ID), metadata={
        "description": "Deliver again every entry after this change_id (0: from the oldest kept)", "example": 1000})


class WebhookRotateSchema(ma.Schema):
    expire_previous = StrictBoolean(load_default=False, metadata={
        "description": "true: the previous secret stops signing at once (a leaked secret); false, the default: it "
                       "signs beside the new one for 24 hours"})


class WebhookListSchema(ma.Schema):
    data = fields.List(fields.Nested(WebhookSchema), required=True)
    pagination = fields.Nested(PaginationSchema, required=True)


class WebhookDeletedSchema(ma.Schema):
    deleted = fields.Boolean(required=True, metadata={"example": True})
    webhook_id = fields.String(required=True, metadata={"example": "wh-3f9c1a2b4d5e6f70"})


class WebhookDeliverySchema(ma.Schema):
    change_id = fields.Integer(required=True, metadata={"example": 1042})
    attempt = fields.Integer(required=True, metadata={"description": "1 for the first try of this entry",
                                                      "example": 1})
    at = UtcDateTime(required=True, metadata={"example": "2026-12-06T08:00:01Z"})
    status_code = fields.Integer(required=True, allow_none=True, metadata={
        "description": "The receiver's HTTP status; null when none came (timeout, refused connection)",
        "example": 200})
    error = fields.String(required=True, allow_none=True, metadata={"example": None})
    duration_ms = fields.Integer(required=True, metadata={"example": 35})


class WebhookDeliveryListSchema(ma.Schema):
    data = fields.List(fields.Nested(WebhookDeliverySchema), required=True)
    pagination = fields.Nested(PaginationSchema, required=True)
