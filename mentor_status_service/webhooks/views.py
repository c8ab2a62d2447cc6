"""/api/v1/webhooks: the systems that receive every change, managed with an admin token only."""
from flask import url_for
from flask.views import MethodView

from ..changes.schemas import FeedPrunedSchema
from ..web import auth
from ..web.api import LINK_HEADER, ApiBlueprint
from ..web.etags import ETAG_HEADER
from ..web.links import page_links
from ..web.schemas import PageArgsSchema
from . import admin as webhook_admin
from .schemas import (
    WebhookCreateSchema,
    WebhookDeletedSchema,
    WebhookDeliveryListSchema,
    WebhookListSchema,
    WebhookReplaySchema,
    WebhookRotatedSchema,
    WebhookRotateSchema,
    WebhookSchema,
    WebhookUpdateSchema,
    WebhookWithSecretSchema,
)

blp = ApiBlueprint("webhooks", __name__, url_prefix="/api/v1/webhooks",
                   description="Every change pushed to a receiver as a signed POST, in feed order, retried until "
                               "acknowledged. Admin tokens only.", scope="admin")
# Documented as needing the token, where the API's other operations document it as optional.
admin_only = blp.doc(security=[{auth.BEARER_AUTH: []}])
LOCATION_HEADER = {"Location": {"description": "URL of the new webhook", "schema": {"type": "string"}}}


@blp.route("", strict_slashes=False)
class Webhooks(MethodView):
    @admin_only
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, WebhookListSchema, headers={**ETAG_HEADER, **LINK_HEADER})
    @blp.read("listWebhooks", 403)
    def get(self, args):
        """List webhooks

        Oldest first, without their secrets.
        """
        page, limit = args["page"], args["limit"]
        webhooks, total = webhook_admin.list_webhooks(page, limit)
        envelope = {"data": webhooks, "pagination": {"page": page, "limit": limit, "total": total}}
        return envelope, page_links(page, limit, total)

    @admin_only
    @blp.arguments(WebhookCreateSchema(), example={"url": "https://hooks.example.org/mentors",
                                                   "resource": "mentor_status", "description": "matching service"})
    @blp.response(201, WebhookWithSecretSchema, headers={**LOCATION_HEADER, **ETAG_HEADER})
    @blp.write("createWebhook")
    def post(self, fields):
        """Create a webhook

        It receives every entry written from now on (`after` is the feed's head). The secret it
        is signed with appears in this response only.
        """
        webhook = webhook_admin.create_webhook(fields)
        return webhook, 201, {"Location": url_for(".Webhook", webhook_id=webhook.webhook_id)}


@blp.route("/<webhook_id>")
class Webhook(MethodView):
    @admin_only
    @blp.response(200, WebhookSchema, headers=ETAG_HEADER)
    @blp.read("getWebhook", 403, 404)
    def get(self, webhook_id):
        """Get one webhook"""
        return webhook_admin.get_webhook(webhook_id)

    @admin_only
    @blp.arguments(WebhookUpdateSchema(), example={"status": "enabled"})
    @blp.response(200, WebhookSchema, headers=ETAG_HEADER)
    @blp.alt_response(410, schema=FeedPrunedSchema, description="Entries it has yet to receive were pruned")
    @blp.write("updateWebhook", 404)
    def put(self, changes, webhook_id):
        """Change, disable or re-enable a webhook

        Only the fields sent change. Re-enabling resumes delivery where it stopped, skipping
        nothing (410 when what it has yet to receive was pruned: replay from a later change).
        """
        return webhook_admin.update_webhook(webhook_id, changes)

    @admin_only
    @blp.response(200, WebhookDeletedSchema)
    @blp.write("deleteWebhook", 404, body=False)
    def delete(self, webhook_id):
        """Delete a webhook and its delivery log"""
        webhook_admin.delete_webhook(webhook_id)
        return {"deleted": True, "webhook_id": webhook_id}


@blp.route("/<webhook_id>/rotate-secret")
class WebhookSecret(MethodView):
    @admin_only
    @blp.arguments(WebhookRotateSchema(), required=False, example={"expire_previous": True})
    @blp.response(201, WebhookRotatedSchema, headers=ETAG_HEADER)
    @blp.write("rotateWebhookSecret", 404)
    def post(self, fields, webhook_id):
        """Give a webhook a new secret

        The new secret appears in this response only. For 24 hours the previous one signs too:
        `webhook-signature` then carries both signatures, space-separated; with
        `{"expire_previous": true}` it stops at once.
        """
        return webhook_admin.rotate_secret(webhook_id, fields.get("expire_previous", False))


@blp.route("/<webhook_id>/replay")
class WebhookReplay(MethodView):
    @admin_only
    @blp.arguments(WebhookReplaySchema(), example={"after": 1000})
    @blp.response(200, WebhookSchema, headers=ETAG_HEADER)
    @blp.alt_response(410, schema=FeedPrunedSchema, description="Entries past `after` were pruned")
    @blp.write("replayWebhook", 404)
    def post(self, fields, webhook_id):
        """Deliver again from a change

        Delivery starts again with the entry after `after`, in feed order; each entry keeps its
        `webhook-id`, so a receiver that deduplicates sees replays as repeats.
        """
        return webhook_admin.replay(webhook_id, fields["after"])


@blp.route("/<webhook_id>/deliveries")
class WebhookDeliveries(MethodView):
    @admin_only
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, WebhookDeliveryListSchema, headers={**ETAG_HEADER, **LINK_HEADER})
    @blp.read("listWebhookDeliveries", 403, 404)
    def get(self, args, webhook_id):
        """List a webhook's delivery attempts

        Newest first: the entry, the attempt number, when, the status code or the error, and how
        long it took. Never a request or response body.
        """
        page, limit = args["page"], args["limit"]
        deliveries, total = webhook_admin.list_deliveries(webhook_id, page, limit)
        envelope = {"data": deliveries, "pagination": {"page": page, "limit": limit, "total": total}}
        return envelope, page_links(page, limit, total)
