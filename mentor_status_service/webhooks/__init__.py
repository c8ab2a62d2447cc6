"""Webhooks: the systems that receive every change of the feed, signed, in order, at least once.

models.py (webhooks, their leases and the delivery log), admin.py (the rules of managing one),
views.py (the admin-only blueprint), schemas.py, urls.py (which URLs may be called: SSRF rules),
secrets.py (secrets and signatures), secrets_at_rest.py (secrets stored before SECRETS_KEY, encrypted at start),
deadlines.py (every attempt's deadline), delivery.py (the loop of the delivery process), client.py (its
HTTP client), messages.py (what is sent), retries.py (when a failure is tried again), metrics.py,
commands.py (`webhooks deliver`).

Other wings use `views.blp`, `commands.webhooks_cli` and `metrics.WebhookCollector`; the change log
is told here which entries webhooks still need, so that a prune keeps them.
"""
from ..changes.prune import keep_entries_for
from ..db.migrate import on_first_use
from .models import Webhook
from .secrets_at_rest import seal_stored_secrets

keep_entries_for("webhooks", Webhook.lowest_position_of_enabled)
on_first_use(seal_stored_secrets)  # secrets stored before SECRETS_KEY was set: encrypted at start
