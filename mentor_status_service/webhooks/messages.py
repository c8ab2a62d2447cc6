"""What a delivery sends: the body of an entry, its webhook-id, and the secrets that sign it."""
import orjson

from ..changes.rendering import change_entry_row


def message(webhook, row):
    """(webhook-id, body) of the delivery of entry `row` (a row of ChangeEntry.READ_COLUMNS)."""
    entry = change_entry_row(row)
    body = orjson.dumps({"type": f"{entry['resource']}.{entry['event']}", "timestamp": entry["at"], "data": entry})
    return f"{webhook.webhook_id}_{entry['change_id']}", body


def signing_secrets(webhook, now):
    """The secrets that sign now: the current one, and a rotated one for its overlap."""
    if webhook.previous_secret and webhook.previous_secret_expires_at and webhook.previous_secret_expires_at > now:
        return [webhook.secret, webhook.previous_secret]
    return [webhook.secret]
