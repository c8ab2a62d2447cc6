"""Every setting the service reads from its environment, read once, with its default."""
import os
from urllib.parse import urlparse

DEFAULT_DATABASE_URL = "sqlite:///mentor_status.db"


class ConfigurationError(SystemExit):
    """A setting the service cannot start with. A SystemExit, so that gunicorn and the flask CLI
    stop with the message alone rather than a traceback."""


def token_list(raw):
    return tuple(token.strip() for token in raw.split(",") if token.strip())


def _positive_int(environ, name, default):
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) == 0:
        raise ConfigurationError(f"{name} must be a positive whole number, not {raw!r}")
    return int(raw)


def describe_database(url):
    """`url` without its user or password: scheme, host, port and database name, for the logs."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        return url
    return f"{parsed.scheme}://{parsed.hostname or 'localhost'}:{parsed.port or 5432}{parsed.path}"


class Config:
    """Flask configuration; `create_app(overrides)` may replace any key."""

    def __init__(self, environ=os.environ):
        if environ.get("DYNO") and not environ.get("DATABASE_URL"):
            # A dyno's disk is wiped at every restart: a SQLite file there loses every write.
            raise ConfigurationError(
                "DATABASE_URL is not set on a platform with an ephemeral disk (DYNO is set): refusing to "
                "start rather than keep data in a SQLite file that the next restart deletes. Attach a "
                "PostgreSQL database and set DATABASE_URL to it.")
        self.DATABASE_URL = environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        self.API_WRITE_TOKENS = token_list(environ.get("API_WRITE_TOKENS", ""))
        self.LOG_LEVEL = environ.get("LOG_LEVEL", "INFO").upper()
        self.LOG_FORMAT = "json" if environ.get("LOG_FORMAT", "text").lower() == "json" else "text"
        # Connections one worker process may hold, whatever its number of threads.
        self.DB_POOL_SIZE = _positive_int(environ, "DB_POOL_SIZE", 4)
        # How long a request waits for a free connection before it is a 503.
        self.DB_POOL_WAIT_MS = _positive_int(environ, "DB_POOL_WAIT_MS", 5000)
        self.DB_STATEMENT_TIMEOUT_MS = _positive_int(environ, "DB_STATEMENT_TIMEOUT_MS", 5000)
        self.DB_LOCK_TIMEOUT_MS = _positive_int(environ, "DB_LOCK_TIMEOUT_MS", 2000)
        self.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = _positive_int(environ, "DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", 10000)
        # A request body not complete this long after its headers is a 408.
        self.REQUEST_BODY_TIMEOUT_S = _positive_int(environ, "REQUEST_BODY_TIMEOUT_S", 10)

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

    def as_dict(self):
        return {key: getattr(self, key) for key in dir(self) if key.isupper()}
