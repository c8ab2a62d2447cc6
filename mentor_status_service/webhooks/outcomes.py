"""What an attempt's outcome does, written only while its process holds the webhook's lease: an
acknowledgement moves the position, a failure schedules the retry or disables the webhook, and
every attempt goes in the deliveries log."""
import logging
import random
import time

from ..db import connected, database, is_postgresql, utc_now
from .models import Webhook, WebhookDelivery
from .retries import next_delay_s

logger = logging.getLogger(__name__)

DELIVERY_LOG_KEPT = 1000  # attempts kept per webhook
TRIM_LOG_CHANCE = 0.01  # one attempt in a hundred trims its webhook's log


def record(webhook, owner, change_id, attempt, answer, error, duration_ms, retry_schedule_s):
    """Record attempt number `attempt` at entry `change_id` (its `answer`, `error` and `duration_ms`)
    for `owner`, the lease holder; whether its outcome was recorded (not: the lease ran out or a
    replay moved the position meanwhile)."""
    with connected(), database.atomic():
        if is_postgresql():
            # An acknowledgement lost in a crash of the database server means that entry is
            # sent again, never that one is skipped: it need not wait for the disk.
            database.execute_sql("SET LOCAL synchronous_commit = off")
        if answer.acknowledged:
            recorded = Webhook.acknowledge(webhook.webhook_id, owner, webhook.position_version, change_id,
                                           time.time())
        else:
            recorded = _record_failure(webhook, owner, change_id, attempt, answer, error, retry_schedule_s)
        if not recorded:
            logger.warning("webhook %s: change %s attempt %d (%s) not recorded: the lease ran out or a replay "
                           "moved the position meanwhile", webhook.webhook_id, change_id, attempt,
                           error or answer.status_code)
        # Every attempt is in the log, recorded or not (not: the lease ran out first, or a replay moved
        # on), unless the webhook was deleted meanwhile, with its log.
        if recorded or Webhook.select().where(Webhook.webhook_id == webhook.webhook_id).exists():
            WebhookDelivery.record(webhook.webhook_id, change_id, attempt, utc_now(), answer.status_code,
                                   None if answer.acknowledged else error, duration_ms)
        if random.random() < TRIM_LOG_CHANCE:
            WebhookDelivery.keep_newest(webhook.webhook_id, DELIVERY_LOG_KEPT)
    return recorded


def _record_failure(webhook, owner, change_id, attempt, answer, error, retry_schedule_s):
    delay = next_delay_s(retry_schedule_s, attempt, answer)
    reason = None
    if answer.status_code == 410:
        reason = f"The receiver answered 410 Gone to change {change_id}."
    elif delay is None:
        reason = f"No 2xx after {attempt} attempts at change {change_id}; the last one: {error}."
    if reason:
        logger.warning("webhook %s disabled: %s", webhook.webhook_id, reason)
    else:
        logger.info("webhook %s: change %s attempt %d failed (%s); next in %gs", webhook.webhook_id, change_id,
                    attempt, error, delay)
    return Webhook.record_failure(webhook.webhook_id, owner, webhook.position_version, time.time(), attempt,
                                  None if delay is None else time.time() + delay, reason)


def disable(webhook, owner, reason):
    logger.warning("webhook %s disabled: %s", webhook.webhook_id, reason)
    Webhook.disable(webhook.webhook_id, owner, webhook.position_version, time.time(), reason)
