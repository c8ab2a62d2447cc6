"""The flask-smorest Api and Blueprint as this service uses them: strict request parsing, one
error shape, every outcome documented, and `Link` headers on pages."""
import json
import math
from copy import deepcopy
from http import HTTPStatus
from urllib.parse import quote, urlencode

import marshmallow as ma
from flask import request
from flask_smorest import Api, Blueprint, abort
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import MethodNotAllowed

from . import auth
from .errors import INVALID_MESSAGE, error_body
from .etags import IF_MATCH, IF_NONE_MATCH, tag_representation
from .schemas import ErrorSchema

LINK_HEADER = {"Link": {"description": "RFC 8288 links to the first, last, previous and next pages, keeping every "
                                      "filter and limit", "schema": {"type": "string"}}}


class ServiceApi(Api):
    ERROR_SCHEMA = ErrorSchema

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

    def _raw_load_json(self, req):
        """NaN, Infinity and numbers Python cannot hold are a 400, as malformed JSON is."""
        if not is_json_request(req):
            return core.missing
        data = req.get_data(cache=True)
        # A chunked body is cut silently at MAX_CONTENT_LENGTH; reading on raises its 413.
        req.stream.read(1)
        try:
            return json.loads(data.decode("utf-8"), parse_constant=_refuse_constant, parse_float=_finite_float)
        except json.JSONDecodeError:
            raise
        # webargs answers JSONDecodeError with a 400, and these (too deep; invalid UTF-8; NaN;
        # a float out of range; an integer of over 4300 digits) with a 500.
        except (RecursionError, ValueError) as error:
            raise json.JSONDecodeError(str(error)[:200], doc="(not JSON)", pos=0) from error

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        abort(400, message="The request body is not valid JSON.")


def require_json_body():
    """A `before_request` hook: a write whose body is not JSON is a 415."""
    if request.method in auth.READ_METHODS:
        return
    has_body = request.content_length or "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    if has_body and not request.is_json:
        abort(415, message="Send the request body as application/json.")


class ApiBlueprint(Blueprint):
    """A blueprint of the API's data: its requests pass `auth.authorize`, its representations carry
    ETags, and its views document every outcome."""

    ARGUMENTS_PARSER = RequestParser()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.before_request(auth.authorize)
        self.before_request(require_json_body)
        self.after_request(tag_representation)

    def read(self, operation_id, *codes):
        """Documents a read: its operationId, `codes`, 401 for tokens, 503 without a database, and
        the If-None-Match header with its 304."""

        def decorate(view):
            view = self._document(view, (*codes, 304, 401, 503), IF_NONE_MATCH)
            return self.doc(operationId=operation_id, security=[{}, {auth.BEARER_AUTH: []}])(view)

        return decorate

    def write(self, operation_id, *codes, conditional=False, body=True):
        """Documents a write: its operationId, the errors every write can give (and `codes`), its
        token, and for a `conditional` write the optional If-Match and its 412."""

        def decorate(view):
            errors = (*((400,) if body else ()), 401, 403, 413, 415, *codes, *((412,) if conditional else ()), 503)
            view = self._document(view, errors, IF_MATCH if conditional else None)
            return self.doc(operationId=operation_id, security=[{}, {auth.BEARER_AUTH: []}])(view)

        return decorate

    def _document(self, view, codes, header=None):
        for code in codes:
            view = self.alt_response(code, response=HTTPStatus(code).name)(view)
        if header:
            # Beside the parameters of @arguments, which `doc(parameters=...)` would replace.
            view._apidoc = deepcopy(getattr(view, "_apidoc", {}))
            view._apidoc.setdefault("arguments", {}).setdefault("parameters", []).append(header)
        return view


def page_links(page, limit, total):
    """The `Link` header of a page of `total` items: first, last, and prev/next where they exist,
    relative to the host and keeping every other query parameter."""
    last = max(1, math.ceil(total / limit))
    links = {"first": 1, "last": last}
    if page > 1:
        links["prev"] = min(page - 1, last)
    if page < last:
        links["next"] = page + 1
    base = f"{_url_without('limit', 'page')}limit={limit}&page="  # _url_with(limit=, page=), encoded once
    return {"Link": ", ".join(f'<{base}{number}>; rel="{rel}"' for rel, number in links.items())}


def list_links(args, total, next_cursor):
    """The `Link` header of a list page: by page number as `page_links` gives it; by cursor, the
    list's first page and, while a row follows, rel="next" with `next_cursor`."""
    if "cursor" not in args:
        return page_links(args["page"], args["limit"], total)
    links = [f'<{_url_without("cursor", "page")[:-1]}>; rel="first"']
    if next_cursor is not None:
        links.append(f'<{_url_with(cursor=next_cursor)}>; rel="next"')
    return {"Link": ", ".join(links)}


def next_link(**replaced):
    """A `Link` header with the one link rel="next": this request's URL with `replaced` parameters."""
    return {"Link": f'<{_url_with(**replaced)}>; rel="next"'}


def _url_with(**replaced):
    return _url_without(*replaced) + urlencode(list(replaced.items()))


def _url_without(*names):
    """This request's URL without the parameters `names`, ready for more to be appended."""
    query = urlencode([(name, value) for name, value in request.args.items(multi=True) if name not in names])
    return f"{quote(request.path)}?{query}&" if query else f"{quote(request.path)}?"
