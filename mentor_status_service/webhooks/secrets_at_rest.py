"""Webhook secrets stored before SECRETS_KEY was set, encrypted when a process starts with one (the
secret columns are SealedTextFields: db/sealed.py encrypts what is written from then on)."""
import logging

from ..db.sealed import SEALED_PREFIX, cipher_configured, seal

logger = logging.getLogger(__name__)


def seal_stored_secrets(db):
    """Encrypt every secret stored as it is (before a key was set), in one transaction; how many
    webhooks were changed. Nothing without a key. `db`: a connected peewee database."""
    if not cipher_configured():
        return 0
    param = db.param
    with db.atomic():
        rows = db.execute_sql("SELECT webhook_id, secret, previous_secret FROM webhook WHERE secret NOT LIKE "
                              f"{param} OR previous_secret NOT LIKE {param}",
                              (SEALED_PREFIX + "%", SEALED_PREFIX + "%")).fetchall()
        for webhook_id, secret, previous in rows:
            db.execute_sql(f"UPDATE webhook SET secret = {param}, previous_secret = {param} WHERE webhook_id = {param}",
                           (_sealed(secret), _sealed(previous), webhook_id))
    if rows:
        logger.info("webhook secrets of %d webhooks stored before SECRETS_KEY was set: now encrypted", len(rows))
    return len(rows)


def _sealed(stored):
    return stored if stored is None or stored.startswith(SEALED_PREFIX) else seal(stored)
