"""Webhook secrets encrypted at rest: with SECRETS_KEY set, the secret columns hold Fernet tokens
(authenticated encryption, `cryptography`'s MultiFernet: the first key encrypts, every key
decrypts, so a key is rotated by putting the new one first), and a database dump alone reveals no
secret. A stored value says how it is stored: `fernet:<token>`, or the secret as it is (stored
before a key was set, or with none). At start, a process with a key encrypts the secrets stored as
they are (`seal_stored_secrets`); without a key it warns, naming SECRETS_KEY.

The cipher is the process's (`configure`), as the database is: every app of a process has the same
environment, and the model's field has no app to ask.
"""
import logging

from cryptography.fernet import InvalidToken
from peewee import TextField

logger = logging.getLogger(__name__)

SEALED_PREFIX = "fernet:"
_state = {"cipher": None}


def configure(cipher):
    """The MultiFernet of SECRETS_KEY (config.SECRETS_CIPHER) for this process, or None."""
    _state["cipher"] = cipher
    if cipher is None:
        logger.warning("SECRETS_KEY is not set: webhook secrets are stored in the database as they are, so a dump "
                       "of it reveals them. Set SECRETS_KEY to a Fernet key to store them encrypted.")


def seal(secret):
    """How `secret` is stored: encrypted with the first key, or as it is without a key."""
    cipher = _state["cipher"]
    if secret is None or cipher is None:
        return secret
    return SEALED_PREFIX + cipher.encrypt(secret.encode()).decode()


def unseal(stored):
    """The secret that `stored` holds."""
    if stored is None or not stored.startswith(SEALED_PREFIX):
        return stored
    cipher = _state["cipher"]
    if cipher is None:
        raise RuntimeError("A webhook secret is stored encrypted but SECRETS_KEY is not set: set it to the key "
                           "(or keys) it was encrypted with.")
    try:
        return cipher.decrypt(stored[len(SEALED_PREFIX):].encode()).decode()
    except InvalidToken:
        raise RuntimeError("A webhook secret was encrypted with a key that SECRETS_KEY no longer holds: keep the old "
                           "key in SECRETS_KEY, after the new one.") from None


class SealedTextField(TextField):
    """A text column stored through `seal` and read through `unseal`."""

    def db_value(self, value):
        return super().db_value(seal(value))

    def python_value(self, value):
        return unseal(super().python_value(value))


def seal_stored_secrets(db):
    """Encrypt every secret stored as it is (before a key was set), in one transaction; how many
    webhooks were changed. Nothing without a key. `db`: a connected peewee database."""
    if _state["cipher"] is None:
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
