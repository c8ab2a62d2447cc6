"""The checks that config.py and the settings modules beside it (calendar_settings.py) share: the
error a setting the service cannot start with raises, comma-separated entries, and the names and
secrets of credentials (a secret is kept only as its digest)."""
import hashlib
import re

TOKEN_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
# Printable ASCII but space and comma, which separate entries.
TOKEN_SECRET = re.compile(r"[!-+\--~]{16,256}")


class ConfigurationError(SystemExit):
    """A setting the service cannot start with. A SystemExit, so that gunicorn and the flask CLI
    stop with the message alone rather than a traceback; the message never contains a secret."""


def secret_digest(secret):
    """What is kept of a secret, and compared with the digest of what a client sends: a memory
    dump, a debug page or a log of the configuration then shows no secret."""
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).digest()


def check_secret(secret, where):
    if not TOKEN_SECRET.fullmatch(secret):
        raise ConfigurationError(f"{where}: the secret must be 16 to 256 printable ASCII characters other than "
                                 "space and comma")


def comma_separated(raw):
    return tuple(entry for _, entry in entries(raw))


def entries(raw):
    """(position from 1, entry) for each non-empty comma-separated entry of `raw`."""
    return [(position, entry.strip()) for position, entry in enumerate((raw or "").split(","), start=1)
            if entry.strip()]
