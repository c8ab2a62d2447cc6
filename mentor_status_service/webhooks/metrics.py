"""The webhook series of /metrics, read from the webhook table when scraped (the delivery
processes write their counts there, so every instance's scrape sees all of them): deliveries by
outcome, how many entries they are behind and how many are enabled. Per webhook (a `webhook` label
with its id) only for a scrape made with an admin token: the ids are the admin's to know; any other
scrape gets the same series without the label, summed."""
from peewee import DatabaseError
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily

from ..changes import log as change_log
from ..db import DATABASE_ERRORS, discard_connection
from ..web.metrics import scraped_by_admin
from .models import Webhook


class WebhookCollector:
    def __init__(self):
        self.per_webhook = scraped_by_admin()  # made for each scrape, in its request

    def collect(self):
        try:
            webhooks = list(Webhook.select(Webhook.webhook_id, Webhook.status, Webhook.resource,
                                           Webhook.delivered_through, Webhook.delivered_count,
                                           Webhook.failed_count).order_by(Webhook.webhook_id))
            behind = {webhook.webhook_id: change_log.count_after(webhook.delivered_through, webhook.resource)
                      for webhook in webhooks}
        except (DatabaseError, *DATABASE_ERRORS):  # the rest of /metrics still answers
            discard_connection()
            return
        label = ("webhook",) if self.per_webhook else ()
        deliveries = CounterMetricFamily("mentor_status_webhook_deliveries", "Webhook delivery attempts by outcome: "
                                         "delivered (a 2xx) or failed (anything else; tried again).",
                                         labels=("outcome", *label))
        entries_behind = GaugeMetricFamily("mentor_status_webhook_entries_behind", "Entries of the feed a webhook has "
                                           "yet to receive (counted up to 100000).", labels=label)
        enabled = GaugeMetricFamily("mentor_status_webhook_enabled", "1 while a webhook is enabled, 0 once disabled.",
                                    labels=label)
        if not self.per_webhook:
            deliveries.add_metric(("delivered",), sum(webhook.delivered_count for webhook in webhooks))
            deliveries.add_metric(("failed",), sum(webhook.failed_count for webhook in webhooks))
            entries_behind.add_metric((), sum(behind.values()))
            enabled.add_metric((), sum(webhook.status == "enabled" for webhook in webhooks))
        for webhook in webhooks if self.per_webhook else ():
            deliveries.add_metric(("delivered", webhook.webhook_id), webhook.delivered_count)
            deliveries.add_metric(("failed", webhook.webhook_id), webhook.failed_count)
            entries_behind.add_metric((webhook.webhook_id,), behind[webhook.webhook_id])
            enabled.add_metric((webhook.webhook_id,), 1 if webhook.status == "enabled" else 0)
        yield deliveries
        yield entries_behind
        yield enabled
