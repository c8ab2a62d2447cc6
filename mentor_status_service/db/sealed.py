"""Values sealed at rest: with SECRETS_KEY set, a SealedTextField column holds Fernet tokens
(authenticated encryption, `cryptography`'s MultiFernet: the first key encrypts, every key decrypts,
so a key is rotated by putting the new one first), and a database dump alone reveals nothing it
holds: webhook secrets, and kept responses that may carry one (idempotency keys). A stored value
says how it is stored: `fernet:<token>`, or the value as it is (stored before a key was set, or
with none).

The cipher is the process's (`configure`), as the database is: every app of a process has the same
environment, and a field has no app to ask.
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
        logger.warning("SECRETS_KEY is not set: webhook secrets (and kept responses that carry one) are stored in "
                       "the database as they are, so a dump of it reveals them. Set SECRETS_KEY to a Fernet key to "
                       "store them encrypted.")


def cipher_configured():
    return _state["cipher"] is not None


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
        raise RuntimeError("A value (a webhook secret or a kept response) is stored encrypted but SECRETS_KEY is "
                           "not set: set it to the key (or keys) it was encrypted with.")
    try:
        return cipher.decrypt(stored[len(SEALED_PREFIX):].encode()).decode()
    except InvalidToken:
        raise RuntimeError("A stored value was encrypted with a key that SECRETS_KEY no longer holds: keep the old "
                           "key in SECRETS_KEY, after the new one.") from None


class SealedTextField(TextField):
    """A text column stored through `seal` and read through `unseal`."""

    def db_value(self, value):
        return super().db_value(seal(value))

    def python_value(self, value):
        return unseal(super().python_value(value))
