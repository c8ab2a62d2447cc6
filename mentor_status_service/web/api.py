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
from .idempotency import DOCUMENTED_HEADER as IDEMPOTENCY_KEY
from .schemas import ErrorSchema

LINK_HEADER = {"Link": {"description": "RFC 8288 links to the first, last, previous and next pages, keeping every "
                                      "filter and limit", "schema": {"type": "string"}}}


# An operation's request headers (If-Match or If-None-Match, Idempotency-Key) travel to the document
# under this key (`Blueprint.doc`), and RequestHeaders puts them beside the operation's parameters
# (`doc(parameters=...)` would replace them).
REQUEST_HEADERS_KEY = "x-request-headers"


class RequestHeaders(BasePlugin):
    """An apispec plugin: the request headers of an operation, added to its parameters."""

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            operation.setdefault("parameters", []).extend(operation.pop(REQUEST_HEADERS_KEY, []))


class ServiceApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def __init__(self, app=None, **kwargs):
        super().__init__(app, spec_kwargs={"extra_plugins": [RequestHeaders()]}, **kwargs)

    def handle_http_exception(self, error):
        """flask-smorest's JSON error, always with a message."""
        payload, code, headers = super().handle_http_exception(error)
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            headers = {**headers, "Allow": ", ".join(error.valid_methods)}  # a 405 must say what is allowed
        default = INVALID_MESSAGE if "errors" in payload else error.description
        return error_body(code, payload.get("message") or default, payload.get("errors")), code, headers

    def _register_pagination_header(self):
        """Pages are described in the body and the Link header, not flask-smorest's X-Pagination."""


def strict_json(text):
    """`text` parsed as JSON that the service can store and return: NaN, Infinity and numbers out
    of range are refused (ValueError), and so is nesting too deep for Python (RecursionError)."""
    return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)


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
            return strict_json(data.decode("utf-8"))
        except (RecursionError, ValueError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            abort(400, message="The request body is not valid JSON.")


# Endpoints whose writes take bulk bodies: {endpoint: the largest body, in bytes}. Such a body may
# be JSON or CSV, and up to its own limit rather than the app's MAX_CONTENT_LENGTH.
_BULK_BODIES = {}
CSV_BODY_MIMETYPE = "text/csv"


def require_json_body():
    """A `before_request` hook: a write whose body is not JSON is a 415 (or CSV, where a bulk body
    is taken: that endpoint's larger limit then applies to it)."""
    if request.method in auth.READ_METHODS:
        return
    bulk_limit = _BULK_BODIES.get(request.endpoint)
    if bulk_limit:
        request.max_content_length = bulk_limit
    has_body = request.content_length or "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if has_body and not request.is_json and not (bulk_limit and request.mimetype == CSV_BODY_MIMETYPE):
        abort(415, message="Send the request body as application/json" + (" or text/csv." if bulk_limit else "."))


def bulk_body_limits(app):
    """{path: largest body} of every URL rule that takes bulk bodies, both path forms, for the
    middleware that reads bodies (request_bodies.BodyDeadline)."""
    return {rule.rule: _BULK_BODIES[rule.endpoint] for rule in app.url_map.iter_rules()
            if rule.endpoint in _BULK_BODIES}


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

    def bulk_body(self, max_bytes):
        """Decorates a view class (below its `route`): its writes take JSON or CSV bodies of up to
        `max_bytes`, beyond the app's MAX_CONTENT_LENGTH."""

        def decorate(view_class):
            _BULK_BODIES[f"{self.name}.{view_class.__name__}"] = max_bytes
            return view_class

        return decorate

    def read(self, operation_id, *codes):
        """Documents a read: its operationId, `codes`, 401 for tokens, 503 without a database, and
        the If-None-Match header with its 304."""

        def decorate(view):
            view = self._document(view, (*codes, 304, 401, 429, 503), IF_NONE_MATCH)
            return self.doc(operationId=operation_id, security=[{}, {auth.BEARER_AUTH: []}])(view)

        return decorate

    def write(self, operation_id, *codes, conditional=False, body=True):
        """Documents a write: its operationId, the errors every write can give (and `codes`), its
        token, its optional Idempotency-Key (with the 409 and 422 that it can give), and for a
        `conditional` write the optional If-Match and its 412."""

        def decorate(view):
            errors = (*((400,) if body else ()), 401, 403, 413, 415, *codes, *((412,) if conditional else ()), 429, 503)
            headers = (IF_MATCH, IDEMPOTENCY_KEY) if conditional else (IDEMPOTENCY_KEY,)
            view = self._document(view, sorted({*errors, 409, 422}), *headers)
            return self.doc(operationId=operation_id, security=[{}, {auth.BEARER_AUTH: []}])(view)

        return decorate

    def _document(self, view, codes, *headers):
        for code in codes:
            view = self.alt_response(code, response=HTTPStatus(code).name)(view)
        if headers:
            view = self.doc(**{REQUEST_HEADERS_KEY: list(headers)})(view)
        return view


