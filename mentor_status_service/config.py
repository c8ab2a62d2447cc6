"""Every setting the service reads from its environment, read and checked once, with its default."""
import ipaddress
import os
from typing import NamedTuple
from urllib.parse import urlparse

from cryptography.fernet import Fernet, MultiFernet

from .calendar_settings import parse_calendar_domain, parse_calendar_keys
from .setting_checks import TOKEN_NAME as _TOKEN_NAME
from .setting_checks import ConfigurationError, comma_separated, secret_digest
from .setting_checks import check_secret as _check_secret
from .setting_checks import entries as _entries

DEFAULT_DATABASE_URL = "sqlite:///mentor_status.db"
# Each scope includes the ones before it: write may read, admin may write (and alone manages webhooks).
SCOPES = ("read", "write", "admin")
# Read by `Config` alone, and never kept as they are: they hold the secrets.
ACCESS_SETTINGS = ("API_TOKENS", "API_WRITE_TOKENS", "API_PUBLIC_READS", "CALENDAR_KEYS")
# Settings that relax the webhook URL rules (server-side request forgery): development only.
RELAXED_URL_SETTINGS = ("WEBHOOK_ALLOW_HTTP", "WEBHOOK_ALLOW_PRIVATE")


class Token(NamedTuple):
    """A configured token; of its secret only the digest is kept (see `secret_digest`)."""

    name: str
    scope: str
    digest: bytes

    def __repr__(self):
        return f"Token(name={self.name!r}, scope={self.scope!r})"

    def allows(self, scope):
        """Whether this token's scope includes `scope`."""
        return SCOPES.index(self.scope) >= SCOPES.index(scope)


def parse_tokens(api_tokens="", api_write_tokens=""):
    """The tokens of `API_TOKENS` (`name:scope:secret,...`) and `API_WRITE_TOKENS` (`secret,...`,
    named write-1, write-2, ...). Empty entries are ignored; any malformed entry or duplicate name
    or secret raises ConfigurationError naming the entry by its position."""
    tokens = []
    for position, entry in _entries(api_tokens):
        where = f"API_TOKENS entry {position}"
        if entry.count(":") < 2:
            raise ConfigurationError(f"{where}: not of the form name:scope:secret")
        name, scope, secret = entry.split(":", 2)
        # Only a well-formed name and scope are ever shown: a misplaced secret must not be.
        if not _TOKEN_NAME.fullmatch(name):
            raise ConfigurationError(f"{where}: the name must be 1 to 64 lowercase letters, digits or _.-, "
                                     "starting with a letter or digit")
        if scope not in SCOPES:
            raise ConfigurationError(f"{where}: the scope must be read, write or admin")
        _check_secret(secret, f"{where} ({name})")
        tokens.append((where, Token(name, scope, secret_digest(secret))))
    for number, (position, secret) in enumerate(_entries(api_write_tokens), start=1):
        where = f"API_WRITE_TOKENS entry {position}"
        _check_secret(secret, where)
        tokens.append((where, Token(f"write-{number}", "write", secret_digest(secret))))
    names, digests = {}, {}
    for where, token in tokens:
        if token.name in names:
            raise ConfigurationError(f"{where}: the name {token.name} is already used by {names[token.name]}")
        if token.digest in digests:
            raise ConfigurationError(f"{where}: its secret is already used by {digests[token.digest]}")
        names[token.name] = digests[token.digest] = where
    return tuple(token for _, token in tokens)


def parse_public_reads(value, tokens):
    """`API_PUBLIC_READS`: true (the default) or false, and false only with a token to read with."""
    value = (value or "true").strip().lower()
    if value not in ("true", "false"):
        raise ConfigurationError("API_PUBLIC_READS must be true or false")
    if value == "false" and not tokens:
        raise ConfigurationError("API_PUBLIC_READS=false needs at least one token in API_TOKENS or "
                                 "API_WRITE_TOKENS, or nobody could read")
    return value == "true"


def _positive_int(environ, name, default):
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) == 0:
        raise ConfigurationError(f"{name} must be a positive whole number, not {raw!r}")
    return int(raw)


def _whole_number(environ, name, default, lowest, highest):
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not lowest <= int(raw) <= highest:
        raise ConfigurationError(f"{name} must be a whole number from {lowest} to {highest}, not {raw!r}")
    return int(raw)


def _boolean(environ, name, default):
    raw = environ.get(name, "").strip().lower() or default
    if raw not in ("true", "false"):
        raise ConfigurationError(f"{name} must be true or false, not {raw!r}")
    return raw == "true"


def parse_retry_schedule(raw, name="WEBHOOK_RETRY_SCHEDULE_S"):
    """Comma-separated delays in seconds (whole or decimal, from 0), at least one."""
    delays = []
    for position, entry in _entries(raw):
        try:
            delay = float(entry)
        except ValueError:
            delay = -1.0
        if not 0 <= delay <= 7 * 24 * 3600:
            raise ConfigurationError(f"{name} entry {position} must be a number of seconds from 0 to 604800, "
                                     f"not {entry!r}")
        delays.append(delay)
    if not delays:
        raise ConfigurationError(f"{name} needs at least one delay")
    return tuple(delays)


def parse_rate_limit(raw):
    """`RATE_LIMIT`: one limit in the notation of the `limits` package (`600/minute`, `10 per second`),
    or None when unset (no limit)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    from limits import parse_many  # only when a limit is set: an unlimited service imports nothing of it

    try:
        parsed = parse_many(raw)
    except ValueError:
        parsed = []
    if len(parsed) != 1 or parsed[0].amount < 1:
        raise ConfigurationError(f"RATE_LIMIT must be one limit such as 600/minute or 10 per second, not {raw!r}")
    return raw


def parse_rate_limit_storage_url(raw):
    """`RATE_LIMIT_STORAGE_URL`: memory:// (each process counts alone) or a redis:// or rediss:// URL."""
    raw = (raw or "").strip() or "memory://"
    scheme = urlparse(raw).scheme
    if raw != "memory://" and scheme not in ("redis", "rediss"):
        # Only the scheme is shown: the URL may carry a password.
        raise ConfigurationError(f"RATE_LIMIT_STORAGE_URL must be memory:// or a redis:// or rediss:// URL, "
                                 f"not a {scheme or 'schemeless'} URL")
    return raw


def parse_forwarded_allow_ips(raw):
    """`FORWARDED_ALLOW_IPS`, read as gunicorn reads it (same default): the peers whose
    X-Forwarded-For is believed; `*` for any, else addresses or networks."""
    trusted = []
    for position, entry in _entries(raw if raw is not None else "127.0.0.1,::1"):
        if entry == "*":
            return "*"
        try:
            trusted.append(ipaddress.ip_network(entry))
        except ValueError:
            raise ConfigurationError(f"FORWARDED_ALLOW_IPS entry {position} must be *, an IP address or a network "
                                     f"such as 10.0.0.0/8, not {entry!r}") from None
    return tuple(trusted)


def parse_tracing(environ):
    """Whether to export traces: when the OpenTelemetry SDK's endpoint variable is set (and
    OTEL_SDK_DISABLED is not true). The SDK reads the rest of its variables itself."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    names = [name for name in ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
             if environ.get(name, "").strip()]
    for name in names:
        if urlparse(environ[name].strip()).scheme not in ("http", "https"):
            raise ConfigurationError(f"{name} must be an http:// or https:// URL (OTLP over HTTP)")
    for name in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
        if names and environ.get(name, "http/protobuf").strip() != "http/protobuf":
            raise ConfigurationError(f"{name} must be http/protobuf, the one protocol this service exports with")
    return bool(names)
def parse_secrets_key(raw):
    """`SECRETS_KEY`: Fernet keys, comma-separated, the first encrypting (a MultiFernet), or None
    when empty. A malformed key is named by its position, never shown."""
    keys = []
    for position, entry in _entries(raw):
        try:
            keys.append(Fernet(entry))
        except (ValueError, TypeError):
            raise ConfigurationError(f"SECRETS_KEY entry {position} is not a Fernet key (32 bytes in url-safe "
                                     "base64, as Fernet.generate_key() makes)") from None
    return MultiFernet(keys) if keys else None


def describe_database(url):
    """`url` without its user or password: scheme, host, port and database name, for the logs."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        return url
    return f"{parsed.scheme}://{parsed.hostname or 'localhost'}:{parsed.port or 5432}{parsed.path}"


class Config:
    """Flask configuration; `create_app(overrides)` may replace any key. The access settings are
    parsed here, once, from `access_overrides` or else the environment, and only what they give is
    kept (`TOKENS` with digests, `PUBLIC_READS`), never the raw secrets."""

    def __init__(self, environ=os.environ, access_overrides=None):
        if environ.get("DYNO") and not environ.get("DATABASE_URL"):
            # A dyno's disk is wiped at every restart: a SQLite file there loses every write.
            raise ConfigurationError(
                "DATABASE_URL is not set on a platform with an ephemeral disk (DYNO is set): refusing to "
                "start rather than keep data in a SQLite file that the next restart deletes. Attach a "
                "PostgreSQL database and set DATABASE_URL to it.")
        self.DATABASE_URL = environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        self.LOG_LEVEL = environ.get("LOG_LEVEL", "INFO").upper()
        self.LOG_FORMAT = "json" if environ.get("LOG_FORMAT", "text").lower() == "json" else "text"
        # Origins allowed to call the API from a browser, comma-separated, or `*`; none: no CORS headers.
        self.CORS_ORIGINS = comma_separated(environ.get("CORS_ORIGINS", ""))
        # Connections one worker process may hold, whatever its number of threads.
        self.DB_POOL_SIZE = _positive_int(environ, "DB_POOL_SIZE", 4)
        # How long a request waits for a free connection before it is a 503.
        self.DB_POOL_WAIT_MS = _positive_int(environ, "DB_POOL_WAIT_MS", 5000)
        self.DB_STATEMENT_TIMEOUT_MS = _positive_int(environ, "DB_STATEMENT_TIMEOUT_MS", 5000)
        self.DB_LOCK_TIMEOUT_MS = _positive_int(environ, "DB_LOCK_TIMEOUT_MS", 2000)
        self.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = _positive_int(environ, "DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", 10000)
        self.DB_PREPARED_STATEMENTS = _boolean(environ, "DB_PREPARED_STATEMENTS", "true")
        # A request body not complete this long after its headers is a 408.
        self.REQUEST_BODY_TIMEOUT_S = _positive_int(environ, "REQUEST_BODY_TIMEOUT_S", 10)
        # A request line and headers not complete this long after their first byte are a 408 (gunicorn's worker).
        self.REQUEST_HEADER_TIMEOUT_S = _positive_int(environ, "REQUEST_HEADER_TIMEOUT_S", 10)
        # A response none of whose bytes can be sent this long is abandoned (gunicorn's worker).
        self.SEND_TIMEOUT_S = _positive_int(environ, "SEND_TIMEOUT_S", 30)
        # Exports streaming at once in one worker process; beyond, a 503 with Retry-After.
        self.EXPORTS_PER_WORKER = _positive_int(environ, "EXPORTS_PER_WORKER", 4)
        # Webhooks: what the delivery process may call, how long it waits, when it tries again.
        self.WEBHOOK_ALLOW_HTTP = _boolean(environ, "WEBHOOK_ALLOW_HTTP", "false")
        self.WEBHOOK_ALLOW_PRIVATE = _boolean(environ, "WEBHOOK_ALLOW_PRIVATE", "false")
        for name in RELAXED_URL_SETTINGS:
            if getattr(self, name) and environ.get("DYNO"):
                # A platform's dynos share networks with other services and metadata endpoints.
                raise ConfigurationError(f"{name}=true opens webhook URLs to plain http or internal addresses, "
                                         "which is for local development only: refusing to start on a platform "
                                         "(DYNO is set)")
        self.WEBHOOK_TIMEOUT_S = _positive_int(environ, "WEBHOOK_TIMEOUT_S", 10)
        self.WEBHOOK_RETRY_SCHEDULE_S = parse_retry_schedule(
            environ.get("WEBHOOK_RETRY_SCHEDULE_S") or "5,300,1800,7200,18000,36000,36000")
        # Webhooks one delivery process sends to at once (each holds one thread while it waits).
        self.WEBHOOK_DELIVERY_THREADS = _positive_int(environ, "WEBHOOK_DELIVERY_THREADS", 4)
        # How often an idle delivery process looks for new entries.
        self.WEBHOOK_POLL_INTERVAL_MS = _positive_int(environ, "WEBHOOK_POLL_INTERVAL_MS", 100)
        # Fair use: requests per actor in a window, where the counts are kept, and which proxies to believe.
        self.RATE_LIMIT = parse_rate_limit(environ.get("RATE_LIMIT"))
        self.RATE_LIMIT_STORAGE_URL = parse_rate_limit_storage_url(environ.get("RATE_LIMIT_STORAGE_URL"))
        self.FORWARDED_ALLOW_IPS = parse_forwarded_allow_ips(environ.get("FORWARDED_ALLOW_IPS"))
        # Traces over OTLP/HTTP when the OpenTelemetry SDK's endpoint is set (tracing.py).
        self.TRACING = parse_tracing(environ)
        # How long a write's response is kept with its Idempotency-Key (at most a year).
        self.IDEMPOTENCY_TTL_H = _positive_int(environ, "IDEMPOTENCY_TTL_H", 24)
        if self.IDEMPOTENCY_TTL_H > 8760:
            raise ConfigurationError(f"IDEMPOTENCY_TTL_H must be a whole number of hours from 1 to 8760, "
                                     f"not {self.IDEMPOTENCY_TTL_H}")
        # Encrypts webhook secrets at rest; only the cipher is kept, which shows no key.
        self.SECRETS_CIPHER = parse_secrets_key(environ.get("SECRETS_KEY", ""))
        # Pauses over time: the longest wait between a scheduled start, end or notice and its application,
        # whether web workers apply them (false: only `schedule run` processes do), whether a pause ends by
        # itself at its expected return, and how many days before it the return_due notice goes out (0: never).
        self.SCHEDULE_CHECK_S = _whole_number(environ, "SCHEDULE_CHECK_S", 30, 1, 3600)
        self.SCHEDULE_IN_WEB = _boolean(environ, "SCHEDULE_IN_WEB", "true")
        self.PAUSE_AUTO_RETURN = _boolean(environ, "PAUSE_AUTO_RETURN", "false")
        self.RETURN_NOTICE_DAYS = _whole_number(environ, "RETURN_NOTICE_DAYS", 7, 0, 365)
        # The calendar of pause records: the domain of its UIDs, and whether a pause's reason shows.
        self.CALENDAR_DOMAIN = parse_calendar_domain(environ.get("CALENDAR_DOMAIN"))
        self.CALENDAR_SHOW_REASON = _boolean(environ, "CALENDAR_SHOW_REASON", "false")
        access = {name: environ.get(name, "") for name in ACCESS_SETTINGS}
        access.update(access_overrides or {})
        self.TOKENS = parse_tokens(access["API_TOKENS"], access["API_WRITE_TOKENS"])
        self.PUBLIC_READS = parse_public_reads(access["API_PUBLIC_READS"], self.TOKENS)
        self.CALENDAR_KEYS = parse_calendar_keys(access["CALENDAR_KEYS"], self.TOKENS)

    MAX_CONTENT_LENGTH = 64 * 1024

    API_TITLE = "Mentor status service"
    API_VERSION = "1.0.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/"
    OPENAPI_JSON_PATH = "openapi.json"
    OPENAPI_SWAGGER_UI_PATH = "docs"
    # Served by this app from the flask-swagger-ui package: the page needs no internet access.
    OPENAPI_SWAGGER_UI_URL = "/docs/assets/"
    OPENAPI_SWAGGER_UI_CONFIG = {"validatorUrl": None, "tryItOutEnabled": False}
    API_SPEC_OPTIONS = {"servers": [{"url": "/", "description": "This service"}]}

    def as_dict(self):
        return {key: getattr(self, key) for key in dir(self) if key.isupper()}


def split_access_overrides(overrides):
    """(the access settings among `overrides`, the others): `Config` parses the first."""
    overrides = dict(overrides or {})
    return {name: overrides.pop(name) for name in ACCESS_SETTINGS if name in overrides}, overrides
