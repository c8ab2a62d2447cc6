"""Domain errors, and the handlers that give them and database faults the JSON shape of every error."""
import logging

from werkzeug.http import HTTP_STATUS_CODES

from .db import DATABASE_ERRORS, connection_lost, discard_connection, is_unavailable

logger = logging.getLogger(__name__)
INVALID_MESSAGE = "Some of what was sent is invalid: see errors."


class DomainError(Exception):
    code = 500

    def __init__(self, message, errors=None):
        super().__init__(message)
        self.message = message
        self.errors = errors


class NotFound(DomainError):
    code = 404


def no_mentor(mentor_id):
    return NotFound(f"No mentor status with mentor_id {mentor_id!r}.")


def no_pause_record(pause_record_id):
    return NotFound(f"No pause record with pause_record_id {pause_record_id!r}.")


class Conflict(DomainError):
    code = 409


class PreconditionFailed(DomainError):
    code = 412


class Gone(DomainError):
    """A feed position whose entries were pruned; `head` is where to follow the feed from."""

    code = 410

    def __init__(self, message, head):
        super().__init__(message)
        self.head = head


class Invalid(DomainError):
    """A request that is well-formed but breaks a rule; `fields` maps each field to its problem."""

    code = 422

    def __init__(self, **fields):
        super().__init__(INVALID_MESSAGE, {"json": {name: [problem] for name, problem in fields.items()}})


def error_body(code, message=None, errors=None):
    body = {"code": code, "status": HTTP_STATUS_CODES.get(code, "Unknown Error")}
    if message:
        body["message"] = message
    if errors:
        body["errors"] = errors
    return body


def handle_domain_error(error):
    body = error_body(error.code, error.message, error.errors)
    if isinstance(error, Gone):
        body["head"] = error.head
    return body, error.code


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
