"""The settings of the pause-record calendar: its keys (`CALENDAR_KEYS`, read-only stand-ins for a
token on calendar requests) and the domain of its events' UIDs (`CALENDAR_DOMAIN`); read by config.py."""
import re
from typing import NamedTuple

from .setting_checks import TOKEN_NAME, ConfigurationError, check_secret, entries, secret_digest

DEFAULT_CALENDAR_DOMAIN = "mentor-status.invalid"
_DOMAIN = re.compile(r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}"
                     r"[A-Za-z0-9])?)*")


class CalendarKey(NamedTuple):
    """A configured calendar key: a read-only stand-in for a token on calendar requests (`?key=`)."""

    name: str
    digest: bytes

    def __repr__(self):
        return f"CalendarKey(name={self.name!r})"


def parse_calendar_keys(raw, tokens=()):
    """The keys of `CALENDAR_KEYS` (`name:secret,...`), by the rules of API_TOKENS: empty entries
    ignored; a malformed entry, a duplicate name or a secret used twice (here or by a token) raises
    ConfigurationError naming the entry by its position, never its secret."""
    keys, names, digests = [], {}, {token.digest: "a token of API_TOKENS or API_WRITE_TOKENS" for token in tokens}
    for position, entry in entries(raw):
        where = f"CALENDAR_KEYS entry {position}"
        if ":" not in entry:
            raise ConfigurationError(f"{where}: not of the form name:secret")
        name, secret = entry.split(":", 1)
        if not TOKEN_NAME.fullmatch(name):
            raise ConfigurationError(f"{where}: the name must be 1 to 64 lowercase letters, digits or _.-, "
                                     "starting with a letter or digit")
        check_secret(secret, f"{where} ({name})")
        digest = secret_digest(secret)
        if name in names:
            raise ConfigurationError(f"{where}: the name {name} is already used by {names[name]}")
        if digest in digests:
            raise ConfigurationError(f"{where}: its secret is already used by {digests[digest]}")
        names[name] = digests[digest] = where
        keys.append(CalendarKey(name, digest))
    return tuple(keys)


def parse_calendar_domain(raw):
    """`CALENDAR_DOMAIN`: the host name that ends every event's UID."""
    value = (raw or "").strip() or DEFAULT_CALENDAR_DOMAIN
    if not _DOMAIN.fullmatch(value):
        raise ConfigurationError(f"CALENDAR_DOMAIN must be a domain name such as {DEFAULT_CALENDAR_DOMAIN}, "
                                 f"not {value[:100]!r}")
    return value.lower()
