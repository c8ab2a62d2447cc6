"""The handlers that give domain errors and database faults the JSON shape of every error."""
import logging

from ..db import DATABASE_ERRORS, connection_lost, discard_connection, is_unavailable
from ..errors import DomainError, Gone, error_body

logger = logging.getLogger(__name__)


def handle_domain_error(error):
    body = error_body(error.code, error.message, error.errors)
    if isinstance(error, Gone):
        body["head"] = error.head
    return body, error.code, getattr(error, "headers", {})  # Retry-After of a 503, say


def handle_database_error(error):
    """503 when the database cannot be reached or is busy (the client may retry), else a 500: a
    missing table or a bad statement is a fault of the service, not an outage."""
    if not is_unavailable(error):
        logger.error("database error", exc_info=error)
        return error_body(500, "The server met an unexpected error."), 500
    logger.error("database unavailable: %s", error)
    if connection_lost(error):
        discard_connection(all_idle=True)
        message = "The database is unavailable; try again shortly."
    else:
        message = "The database is busy; try again shortly."
    return error_body(503, message), 503, {"Retry-After": "5"}


def register_error_handlers(app):
    """flask-smorest already answers every HTTPException (404, 405, 413, 500 ...) in this shape."""
    app.register_error_handler(DomainError, handle_domain_error)
    for error_class in DATABASE_ERRORS:
        app.register_error_handler(error_class, handle_database_error)
