"""The Blueprint both API resources use: write protection, the JSON body parser, and ETags."""
import hmac
import json
import math
from copy import deepcopy
from http import HTTPStatus

from flask import current_app, request
from flask_smorest import Blueprint, abort
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.http import generate_etag

from .errors import PreconditionFailed

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


def _refuse_constant(name):
    raise ValueError(f"{name} is not JSON")


def _finite_float(text):
    value = float(text)
    if math.isinf(value):  # 1e400: it could only be answered as Infinity, which is not JSON either
        raise ValueError(f"number out of range: {text[:20]}")
    return value


class BodyParser(FlaskParser):
    def _raw_load_json(self, req):
        """Strict JSON: NaN, Infinity and numbers Python cannot hold are a 400, as malformed JSON is."""
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


class ApiBlueprint(Blueprint):
    """A flask-smorest Blueprint whose writes pass `guard_writes` and say so in the API document."""

    ARGUMENTS_PARSER = BodyParser()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.before_request(guard_writes)
        self.after_request(tag_representation)

    def read(self, view):
        """Documents a read: an ETag, 304 for a matching If-None-Match, 503 without a database."""
        return self._document(view, (304, 503), IF_NONE_MATCH)

    def write_errors(self, *codes, conditional=False, body=True):
        """Documents the errors every write can give (and `codes`), that it may need a token, and
        for a `conditional` write the optional If-Match and its 412."""

        def decorate(view):
            errors = (*((400,) if body else ()), 401, 413, 415, *codes, *((412,) if conditional else ()), 503)
            view = self._document(view, errors, IF_MATCH if conditional else None)
            return self.doc(security=[{}, {BEARER_AUTH: []}])(view)

        return decorate

    def _document(self, view, codes, header=None):
        for code in codes:
            view = self.alt_response(code, response=HTTPStatus(code).name)(view)
        if header:
            # Beside the parameters of @arguments, which `doc(parameters=...)` would replace.
            view._apidoc = deepcopy(getattr(view, "_apidoc", {}))
            view._apidoc.setdefault("arguments", {}).setdefault("parameters", []).append(header)
        return view


ETAG_HEADER = {"ETag": {"description": "Tag of the representation, for If-None-Match and If-Match",
                        "schema": {"type": "string"}}}
IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
                 "description": "An ETag from an earlier read: 304 Not Modified while it still matches."}
IF_MATCH = {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
            "description": "An ETag from an earlier read: the write happens only if the resource still matches "
                           "it, else 412. Optional."}


def tag_representation(response):
    """ETag every representation returned; answer a matching If-None-Match with 304."""
    if response.status_code in (200, 201) and request.method != "DELETE":
        response.add_etag()
        if request.method in ("GET", "HEAD"):
            response.make_conditional(request)
    return response


def if_match(schema):
    """The check a write runs on the resource it has locked, when the request sent If-Match:
    412 unless the resource is still the one the client saw. None without If-Match."""
    if not request.if_match:
        return None

    def check(current):
        body = current_app.json.response(schema.dump(current)).get_data()
        if not (request.if_match.star_tag or request.if_match.contains(generate_etag(body))):
            raise PreconditionFailed("The resource has changed since the ETag in If-Match was read.")

    return check
