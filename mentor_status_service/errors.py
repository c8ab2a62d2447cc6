"""Domain errors, and the handlers that give them and database faults the JSON shape of every error."""

from werkzeug.http import HTTP_STATUS_CODES

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


class InvalidRows(DomainError):
    """A bulk load with invalid rows: `rows` maps each one's number (from 1) to its field errors."""

    code = 422

    def __init__(self, rows):
        super().__init__(f"{len(rows)} row(s) are invalid, and nothing was written: see errors.rows.",
                         {"rows": {str(number): rows[number] for number in sorted(rows)}})


def error_body(code, message=None, errors=None):
    body = {"code": code, "status": HTTP_STATUS_CODES.get(code, "Unknown Error")}
    if message:
        body["message"] = message
    if errors:
        body["errors"] = errors
    return body


