"""Webhook secrets in the Standard Webhooks format, and the signatures made with them."""
import base64
import secrets

from standardwebhooks import Webhook as Signer

PREFIX = "whsec_"
SECRET_BYTES = 32  # the format allows 24 to 64


def new_secret():
    """A fresh secret: `whsec_` and the base64 of 32 random bytes."""
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature_header(secrets_in_force, message_id, timestamp, body):
    """The `webhook-signature` header of `body`: one `v1,<signature>` per secret, space-separated
    (two while a rotated secret still signs), as the `standardwebhooks` package signs."""
    return " ".join(Signer(secret).sign(message_id, timestamp, body) for secret in secrets_in_force)
