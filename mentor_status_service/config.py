"""Every setting the service reads from its environment, read once, with its default."""
import os

DEFAULT_DATABASE_URL = "sqlite:///mentor_status.db"


def token_list(raw):
    return tuple(token.strip() for token in raw.split(",") if token.strip())


class Config:
    """Flask configuration; `create_app(overrides)` may replace any key."""

    def __init__(self, environ=os.environ):
        self.DATABASE_URL = environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
        self.API_WRITE_TOKENS = token_list(environ.get("API_WRITE_TOKENS", ""))
        self.LOG_LEVEL = environ.get("LOG_LEVEL", "INFO").upper()
        self.LOG_FORMAT = "json" if environ.get("LOG_FORMAT", "text").lower() == "json" else "text"
        # Origins allowed to call the API from a browser, comma-separated, or `*`; none: no CORS headers.
        self.CORS_ORIGINS = token_list(environ.get("CORS_ORIGINS", ""))

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
