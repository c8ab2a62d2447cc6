"""What every API write passes before its body is read: the write token, then the content type."""
import hmac
import json
from http import HTTPStatus

from flask import current_app, request
from flask_smorest import Blueprint, abort
from webargs.flaskparser import FlaskParser

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BEARER_AUTH = "bearerAuth"


def guard_writes():
    """A blueprint `before_request` hook: 401 without a valid write token (when tokens are
    configured), 415 for a body that is not JSON."""
    if request.method not in WRITE_METHODS:
        return
    tokens = current_app.config["API_WRITE_TOKENS"]
    if tokens and not _carries_write_token(request.headers.get("Authorization", ""), tokens):
        abort(401, message="Writes need an Authorization: Bearer <token> header with a valid token.",
              headers={"WWW-Authenticate": "Bearer"})
    has_body = request.content_length or "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if has_body and not request.is_json:
        abort(415, message="Send the request body as application/json.")


def _carries_write_token(authorization, tokens):
    scheme, _, sent = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    sent = sent.strip().encode("utf-8", "surrogateescape")
    # Every token is compared, in constant time, so timing tells nothing about any of them.
    matches = [hmac.compare_digest(sent, token.encode("utf-8")) for token in tokens]
    return any(matches)


class BodyParser(FlaskParser):
    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError as error:  # webargs answers JSONDecodeError with a 400, this with a 500
            raise json.JSONDecodeError("JSON nested too deeply", doc="(too deep)", pos=0) from error


class ApiBlueprint(Blueprint):
    """A flask-smorest Blueprint whose writes pass `guard_writes` and say so in the API document."""

    ARGUMENTS_PARSER = BodyParser()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.before_request(guard_writes)

    def write_errors(self, *codes):
        """Documents the errors every write can give (and `codes`), and that it may need a token."""

        def decorate(view):
            for code in (401, 413, 415, *codes):
                view = self.alt_response(code, response=HTTPStatus(code).name)(view)
            return self.doc(security=[{}, {BEARER_AUTH: []}])(view)

        return decorate
