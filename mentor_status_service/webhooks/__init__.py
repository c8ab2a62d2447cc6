"""Webhooks: the systems that receive every change of the feed, signed, in order, at least once.

models.py (webhooks, their leases and the delivery log), admin.py (the rules of managing one),
views.py (the admin-only blueprint), schemas.py, urls.py (which URLs may be called: SSRF rules),
secrets.py (secrets and signatures), delivery.py (the loop of the delivery process), client.py (its
HTTP client), messages.py (what is sent), retries.py (when a failure is tried again), metrics.py,
commands.py (`webhooks deliver`).

Other wings use `views.blp`, `commands.webhooks_cli` and `metrics.WebhookCollector`; the change log
is told here which entries webhooks still need, so that a prune keeps them.
"""
from ..changes.prune import keep_entries_for
from .models import Webhook

keep_entries_for("webhooks", Webhook.lowest_position_of_enabled)
