"""Managing webhooks: the rules of creating, changing, re-enabling, rotating and replaying one,
each write one transaction. Delivery itself is delivery.py's."""
import secrets
from datetime import timedelta

from flask import current_app

from ..changes import log as change_log
from ..db import database, utc_now
from ..errors import Invalid, NotFound
from .models import PUBLIC_ID_PREFIX, Webhook, WebhookDelivery
from .secrets import new_secret
from .urls import RefusedURL, check

ROTATION_OVERLAP = timedelta(hours=24)


def create_webhook(fields):
    """A new enabled webhook that receives every entry after the feed's head, with a new secret."""
    _check_url(fields["url"])
    webhook = Webhook(webhook_id=PUBLIC_ID_PREFIX + secrets.token_hex(8), url=fields["url"],
                      resource=fields.get("resource"), description=fields.get("description"), status="enabled",
                      created_at=utc_now(), secret=new_secret())
    with database.atomic():
        webhook.delivered_through = change_log.head()
        webhook.save(force_insert=True)
    return webhook


def list_webhooks(page, limit):
    return Webhook.page(page, limit)


def get_webhook(webhook_id):
    webhook = Webhook.get_or_none(Webhook.webhook_id == webhook_id)
    if webhook is None:
        raise NotFound(f"No webhook with webhook_id {webhook_id!r}.")
    return webhook


def update_webhook(webhook_id, changes):
    """Change what was sent. Disabling stops delivery; enabling a disabled webhook resumes it where
    it stopped, retries counted afresh (410 if entries it has yet to receive were pruned)."""
    if "url" in changes:
        _check_url(changes["url"])
    with database.atomic():
        webhook = _locked(webhook_id)
        for name in ("url", "resource", "description"):
            if name in changes:
                setattr(webhook, name, changes[name])
        status = changes.get("status", webhook.status)
        if status == "enabled" and webhook.status == "disabled":
            _check_not_pruned(webhook.delivered_through, webhook.resource)
            webhook.disabled_reason, webhook.failed_attempts, webhook.next_attempt_at = None, 0, None
        elif status == "disabled" and webhook.status == "enabled":
            webhook.disabled_reason = "Disabled through the API."
        webhook.status = status
        webhook.save()
    return webhook


def delete_webhook(webhook_id):
    """The webhook and its delivery log; a delivery in flight is not acknowledged anywhere."""
    with database.atomic():
        _locked(webhook_id)
        WebhookDelivery.delete().where(WebhookDelivery.webhook_id == webhook_id).execute()
        Webhook.delete().where(Webhook.webhook_id == webhook_id).execute()


def rotate_secret(webhook_id, expire_previous=False):
    """A new secret; the current one keeps signing beside it for 24 hours, or stops at once."""
    with database.atomic():
        webhook = _locked(webhook_id)
        webhook.previous_secret, webhook.secret = webhook.secret, new_secret()
        webhook.previous_secret_expires_at = utc_now() + ROTATION_OVERLAP
        if expire_previous:
            webhook.previous_secret, webhook.previous_secret_expires_at = None, utc_now()
        webhook.save()
    return webhook


def replay(webhook_id, after):
    """Deliver again every entry after change `after` (410 when some were pruned); a delivery
    still in flight from the old position is not acknowledged."""
    with database.atomic():
        webhook = _locked(webhook_id)
        _check_not_pruned(after, webhook.resource)
        webhook.delivered_through = after
        webhook.position_version += 1
        webhook.failed_attempts, webhook.next_attempt_at = 0, None
        webhook.save()
    return webhook


def list_deliveries(webhook_id, page, limit):
    get_webhook(webhook_id)
    return WebhookDelivery.page(webhook_id, page, limit)


def _locked(webhook_id):
    webhook = Webhook.locked(webhook_id)
    if webhook is None:
        raise NotFound(f"No webhook with webhook_id {webhook_id!r}.")
    return webhook


def _check_url(url):
    config = current_app.config
    try:
        check(url, config["WEBHOOK_ALLOW_HTTP"], config["WEBHOOK_ALLOW_PRIVATE"])
    except RefusedURL as error:
        raise Invalid(url=str(error)) from None


def _check_not_pruned(after, resource):
    """410, as the feed answers, when entries past `after` were pruned; within the caller's
    transaction, no prune can then pass `after` before it commits."""
    change_log.hold_pruned_point()
    change_log.feed(after, 1, resource=resource)
