"""Webhooks as stored: each subscriber's settings and secrets, where its delivery stands, the lease
that lets one delivery process at a time work on it, and the log of delivery attempts. No Flask here.

Where delivery stands is `delivered_through`, the change id of the last entry the receiver
acknowledged with a 2xx (or the feed's head when the webhook was created, or the change id a
replay started from). `position_version` moves on every replay, so that a process still sending
from the old position cannot write its acknowledgement over the new one.
"""
import functools

from peewee import (
    BigAutoField,
    BigIntegerField,
    CharField,
    DateTimeField,
    FloatField,
    IntegerField,
    TextField,
    fn,
)

from ..db import PreparedQuery
from ..db.sealed import SealedTextField
from ..pausing.models import BaseModel

STATUSES = ("enabled", "disabled")
PUBLIC_ID_PREFIX = "wh-"




def _one_transaction(write):
    """`write` in a transaction of its own: on SQLite it then takes its turn with the service's
    other writers (db.ServiceSqliteDatabase), where a statement outside one polls the busy handler."""
    @functools.wraps(write)
    def in_transaction(cls, *args):
        with cls._meta.database.atomic():
            return write(cls, *args)
    return in_transaction

class Webhook(BaseModel):
    webhook_id = TextField(primary_key=True)
    url = TextField()
    resource = CharField(max_length=16, null=True)
    description = TextField(null=True)
    status = CharField(max_length=8)
    disabled_reason = TextField(null=True)
    created_at = DateTimeField()
    secret = SealedTextField()  # encrypted with SECRETS_KEY (db/sealed.py)
    previous_secret = SealedTextField(null=True)
    previous_secret_expires_at = DateTimeField(null=True)
    delivered_through = BigIntegerField()
    position_version = IntegerField(default=0)
    failed_attempts = IntegerField(default=0)
    next_attempt_at = FloatField(null=True)  # Unix seconds
    lease_owner = TextField(null=True)
    lease_expires_at = FloatField(null=True)  # Unix seconds
    delivered_count = BigIntegerField(default=0)
    failed_count = BigIntegerField(default=0)

    class Meta:
        table_name = "webhook"

    @classmethod
    def page(cls, page, limit):
        """A page of webhooks, oldest first, and their total."""
        query = cls.select().order_by(cls.created_at, cls.webhook_id)
        return list(query.paginate(page, limit)), cls.select().count()

    @classmethod
    def locked(cls, webhook_id):
        """The webhook, its row locked until the transaction ends (on SQLite the write lock is held
        already); None when there is none."""
        query = cls.select().where(cls.webhook_id == webhook_id)
        return query.for_update(for_update=cls._meta.database.for_update).first()

    @classmethod
    def lowest_position_of_enabled(cls):
        """The lowest `delivered_through` of the enabled webhooks: every entry past it is still
        needed by one of them. None without an enabled webhook."""
        return cls.select(fn.MIN(cls.delivered_through)).where(cls.status == "enabled").scalar()

    @classmethod
    def due(cls, now, excluded=()):
        """Enabled webhooks whose next attempt is due and whose lease is free or has expired,
        least recently attempted first."""
        query = cls.select().where(
            (cls.status == "enabled") & (cls.next_attempt_at.is_null() | (cls.next_attempt_at <= now))
            & (cls.lease_owner.is_null() | (cls.lease_expires_at < now)))
        if excluded:
            query = query.where(cls.webhook_id.not_in(list(excluded)))
        return list(query.order_by(cls.webhook_id))

    @classmethod
    @_one_transaction
    def take_lease(cls, webhook_id, owner, now, until):
        """Lease the webhook to `owner` until `until` if it is free, expired or `owner`'s already,
        in one statement; whether it was taken."""
        return cls.update(lease_owner=owner, lease_expires_at=until).where(
            (cls.webhook_id == webhook_id) & (cls.status == "enabled")
            & (cls.lease_owner.is_null() | (cls.lease_expires_at < now) | (cls.lease_owner == owner))).execute() == 1

    @classmethod
    @_one_transaction
    def renew_lease(cls, webhook_id, owner, now, until):
        """Extend `owner`'s lease; False when it was lost (expired, whether or not another took it
        since: the owner of an expired lease may not know what another did meanwhile; or the
        webhook deleted or disabled)."""
        return cls.update(lease_expires_at=until).where(
            (cls.webhook_id == webhook_id) & (cls.lease_owner == owner) & (cls.lease_expires_at > now)
            & (cls.status == "enabled")).execute() == 1

    @classmethod
    @_one_transaction
    def release_lease(cls, webhook_id, owner):
        cls.update(lease_owner=None, lease_expires_at=None).where(
            (cls.webhook_id == webhook_id) & (cls.lease_owner == owner)).execute()

    @classmethod
    def acknowledge(cls, webhook_id, owner, position_version, change_id, now):
        """Record that the receiver acknowledged entry `change_id`, if `owner` still holds the lease
        (unexpired at `now`) and no replay moved the position meanwhile; whether it was recorded."""
        return _ACKNOWLEDGE.execute(change_id, webhook_id, owner, position_version, now).rowcount == 1

    @classmethod
    def record_failure(cls, webhook_id, owner, position_version, now, failed_attempts, next_attempt_at,
                       disabled_reason=None):
        """Record a failed attempt: the next one at `next_attempt_at`, or the webhook disabled with
        `disabled_reason`; whether it was recorded (as `acknowledge`)."""
        changes = {"failed_attempts": failed_attempts, "next_attempt_at": next_attempt_at,
                   "failed_count": cls.failed_count + 1}
        if disabled_reason is not None:
            changes.update(status="disabled", disabled_reason=disabled_reason, next_attempt_at=None)
        return cls.update(changes).where(
            (cls.webhook_id == webhook_id) & (cls.lease_owner == owner) & (cls.lease_expires_at > now)
            & (cls.position_version == position_version)).execute() == 1

    @classmethod
    def disable(cls, webhook_id, owner, position_version, now, reason):
        """Disable the webhook with `reason`, under the lease (as `acknowledge`)."""
        cls.update(status="disabled", disabled_reason=reason, next_attempt_at=None).where(
            (cls.webhook_id == webhook_id) & (cls.lease_owner == owner) & (cls.lease_expires_at > now)
            & (cls.position_version == position_version)).execute()


class WebhookDelivery(BaseModel):
    """One attempt to deliver one entry: when, how it was answered (never a body)."""

    id = BigAutoField()
    webhook_id = TextField()
    change_id = BigIntegerField()
    attempt = IntegerField()
    at = DateTimeField()
    status_code = IntegerField(null=True)
    error = TextField(null=True)
    duration_ms = IntegerField()

    class Meta:
        table_name = "webhook_delivery"

    COLUMNS = ("webhook_id", "change_id", "attempt", "at", "status_code", "error", "duration_ms")

    @classmethod
    def record(cls, webhook_id, change_id, attempt, at, status_code, error, duration_ms):
        _INSERT_DELIVERY.execute(webhook_id, change_id, attempt, cls.at.db_value(at), status_code, error, duration_ms)

    @classmethod
    def page(cls, webhook_id, page, limit):
        """A page of a webhook's attempts, newest first, and their total."""
        of_webhook = cls.select().where(cls.webhook_id == webhook_id)
        return list(of_webhook.order_by(cls.id.desc()).paginate(page, limit)), of_webhook.count()

    @classmethod
    def keep_newest(cls, webhook_id, count):
        """Delete the webhook's attempts older than its newest `count`."""
        oldest_kept = cls.select(cls.id).where(cls.webhook_id == webhook_id).order_by(
            cls.id.desc()).offset(count - 1).limit(1).scalar()
        if oldest_kept is not None:
            cls.delete().where((cls.webhook_id == webhook_id) & (cls.id < oldest_kept)).execute()


# What a delivery runs for every entry, its SQL built once (see db/sql_cache.py).
_ACKNOWLEDGE = PreparedQuery(lambda db, change_id, webhook_id, owner, position_version, now: Webhook.update(
    delivered_through=change_id, failed_attempts=0, next_attempt_at=None,
    delivered_count=Webhook.delivered_count + 1).where(
    (Webhook.webhook_id == webhook_id) & (Webhook.lease_owner == owner) & (Webhook.lease_expires_at > now)
    & (Webhook.position_version == position_version) & (Webhook.delivered_through < change_id)), keys=5)
_INSERT_DELIVERY = PreparedQuery(lambda db, *values: WebhookDelivery.insert(
    dict(zip((getattr(WebhookDelivery, name) for name in WebhookDelivery.COLUMNS), values))),
    keys=len(WebhookDelivery.COLUMNS))
