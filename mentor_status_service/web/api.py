"""The flask-smorest Api and Blueprint as this service uses them: strict request parsing, one
error shape, every outcome documented, and `Link` headers on pages."""
import json
import math
from http import HTTPStatus

import marshmallow as ma
from apispec import BasePlugin
from flask import request
from flask_smorest import Api, Blueprint, abort
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import MethodNotAllowed

from ..errors import INVALID_MESSAGE, error_body
from . import auth
from .etags import IF_MATCH, IF_NONE_MATCH, tag_representation
from .schemas import ErrorSchema

LINK_HEADER = {"Link": {"description": "RFC 8288 links to the first, last, previous and next pages, keeping every "
                                      "filter and limit", "schema": {"type": "string"}}}


# An operation's conditional header travels to the document under this key (`Blueprint.doc`), and
# ConditionalHeaders puts it beside the operation's parameters (`doc(parameters=...)` would replace them).
CONDITIONAL_HEADER_KEY = "x-conditional-header"


class ConditionalHeaders(BasePlugin):
    """An apispec plugin: the If-Match or If-None-Match header of an operation, added to its parameters."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            header = operation.pop(CONDITIONAL_HEADER_KEY, None)
            if header is not None:
                operation.setdefault("parameters", []).append(header)


class ServiceApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def __init__(self, app=None, **kwargs):
        super().__init__(app, spec_kwargs={"extra_plugins": [ConditionalHeaders()]}, **kwargs)

    def handle_http_exception(self, error):
        """flask-smorest's JSON error, always with a message."""
        payload, code, headers = super().handle_http_exception(error)
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            headers = {**headers, "Allow": ", ".join(error.valid_methods)}  # a 405 must say what is allowed
        default = INVALID_MESSAGE if "errors" in payload else error.description
        return error_body(code, payload.get("message") or default, payload.get("errors")), code, headers

    def _register_pagination_header(self):
        """Pages are described in the body and the Link header, not flask-smorest's X-Pagination."""


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def _finite_float(text):
    value = float(text)
    if math.isinf(value):  # 1e400: it could only be answered as Infinity, which is not JSON either
        raise ValueError(f"number out of range: {text[:20]}")
    return value


class RequestParser(FlaskParser):
    """Strict JSON bodies, and query strings that name only known parameters."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": ma.RAISE,
                                   "querystring": ma.RAISE}

    def load_json(self, req, schema):
        """The JSON body (missing when there is none), through webargs' public hook. NaN, Infinity,
        numbers Python cannot hold, invalid UTF-8 and bodies nested too deep are a 400, as malformed
        JSON is (the standard parser would let some through, and webargs answer others with a 500)."""
        if not is_json_request(req):
            return core.missing
        data = req.get_data(cache=True)
        # A chunked body is cut silently at MAX_CONTENT_LENGTH; reading on raises its 413.
        req.stream.read(1)
        if not data:
            return core.missing  # "Missing data for required field", as webargs answers an empty body
        try:
            return json.loads(data.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float)
        except (RecursionError, ValueError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            abort(400, message="The request body is not valid JSON.")


def require_json_body():
    """A `before_request` hook: a write whose body is not JSON is a 415."""
    if request.method in auth.READ_METHODS:
        return
    has_body = request.content_length or "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if has_body and not request.is_json:
        abort(415, message="Send the request body as application/json.")


class ApiBlueprint(Blueprint):
    """A blueprint of the API's data: who may call it is declared with it, its representations carry
    ETags, and its views document every outcome.

    `scope`: "write" (reads as API_PUBLIC_READS says, writes with a write or admin token) or "admin"
    (every request with an admin token); `delete_scope="admin"`: its DELETE erases history, so it needs
    an admin token once one is configured. Access is decided before the body is looked at."""

    ARGUMENTS_PARSER = RequestParser()

    def __init__(self, *args, scope="write", delete_scope="write", **kwargs):
        super().__init__(*args, **kwargs)
        self.before_request(auth.authorize)
        if scope == "admin":
            self.before_request(auth.require_admin)
        if delete_scope == "admin":
            self.before_request(auth.require_admin_to_erase)
        self.before_request(require_json_body)
        self.after_request(tag_representation)

    def read(self, operation_id, *codes):
        """Documents a read: its operationId, `codes`, 401 for tokens, 503 without a database, and
        the If-None-Match header with its 304."""

        def decorate(view):
            view = self._document(view, (*codes, 304, 401, 429, 503), IF_NONE_MATCH)
            return self.doc(operationId=operation_id, security=[{}, {auth.BEARER_AUTH: []}])(view)

        return decorate

    def write(self, operation_id, *codes, conditional=False, body=True):
        """Documents a write: its operationId, the errors every write can give (and `codes`), its
        token, and for a `conditional` write the optional If-Match and its 412."""

        def decorate(view):
            errors = (*((400,) if body else ()), 401, 403, 413, 415, *codes, *((412,) if conditional else ()), 429, 503)
            view = self._document(view, errors, IF_MATCH if conditional else None)
            return self.doc(operationId=operation_id, security=[{}, {auth.BEARER_AUTH: []}])(view)

        return decorate

    def _document(self, view, codes, header=None):
        for code in codes:
            view = self.alt_response(code, response=HTTPStatus(code).name)(view)
        if header:
            view = self.doc(**{CONDITIONAL_HEADER_KEY: header})(view)
        return view


