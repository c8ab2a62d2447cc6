"""Who may read, write or administer: bearer tokens, their scopes, and the actor of each request.

Decided in a `before_request` hook, so a refused request never has its body parsed nor touches the
database (request_bodies.py has already read its bytes off the socket, within their deadline, but
nothing looks at them). With no token configured every request is anonymous and public.
"""
import hmac
import logging

from flask import current_app, g, request
from flask_smorest import abort

from ..config import secret_digest
from ..errors import INVALID_MESSAGE

logger = logging.getLogger(__name__)

ANONYMOUS = "anonymous"
CALENDAR_KEY_PARAMETER = "key"
# endpoint -> a function telling whether this request of it may carry a calendar key (see accept_calendar_key).
_CALENDAR_KEY_ENDPOINTS = {}
READ_METHODS = frozenset({"GET", "HEAD"})
BEARER_AUTH = "bearerAuth"
SECURITY_SCHEME = {"type": "http", "scheme": "bearer",
                   "description": "A token named by the operator (API_TOKENS or API_WRITE_TOKENS). Writes need "
                                  "a write or admin token once any token is configured; reads need a token when "
                                  "API_PUBLIC_READS is false; webhooks, and deleting a mentor once an admin token "
                                  "is configured, need an admin token."}


def warn_when_open(app):
    """At start: with no token configured, say that anyone may write."""
    if not app.config["TOKENS"]:
        logger.warning("No token is configured (API_TOKENS, API_WRITE_TOKENS): every write is public, and made "
                       "by anonymous.")


def accept_calendar_key(endpoint, applies):
    """Let `?key=<secret of CALENDAR_KEYS>` stand in for a read token on the reads of `endpoint` for
    which `applies()` is true (calendar clients cannot send headers). Anywhere else `key` is an
    unknown parameter."""
    _CALENDAR_KEY_ENDPOINTS[endpoint] = applies


def authorize():
    """A `before_request` hook for everything that serves the API's data: 401 without a valid token
    where one is needed (or with a wrong one, anywhere), 403 for a read token on a write; a calendar
    key where one is accepted, and a 422 for one anywhere else, once the request is otherwise allowed."""
    g.actor, g.token = ANONYMOUS, None
    if CALENDAR_KEY_PARAMETER in request.args:
        applies = _CALENDAR_KEY_ENDPOINTS.get(request.endpoint)
        if applies is not None and request.method in READ_METHODS and applies():
            return _authorize_calendar_key(request.args.getlist(CALENDAR_KEY_PARAMETER))
    _authorize_token()
    if CALENDAR_KEY_PARAMETER in request.args and request.method != "OPTIONS":
        abort(422, message=INVALID_MESSAGE, errors={"query": {CALENDAR_KEY_PARAMETER: [
            "Unknown field. A calendar key is accepted only on the pause-record calendar (format=ics)."]}})


def _authorize_calendar_key(sent):
    """The calendar key `sent` (the values of `key`) as the request's credentials: a read-only actor
    `calendar:<name>`; 401 unless it is exactly one configured key."""
    found = None
    if len(sent) == 1:
        digest = secret_digest(sent[0])
        for key in current_app.config["CALENDAR_KEYS"]:  # every digest is compared, as for tokens
            if hmac.compare_digest(digest, key.digest):
                found = key
    if found is None:
        abort(401, message="The calendar key matches none configured (CALENDAR_KEYS).",
              headers={"WWW-Authenticate": "Bearer"})
    g.actor = f"calendar:{found.name}"


def _authorize_token():
    tokens = current_app.config["TOKENS"]
    if not tokens or request.method == "OPTIONS":  # a CORS preflight never carries credentials
        return
    token = sent_token()
    writing = request.method not in READ_METHODS
    if token is None and (writing or "Authorization" in request.headers or not current_app.config["PUBLIC_READS"]):
        needed = "a write token" if writing else "a read or write token"
        abort(401, message=f"This request needs an Authorization: Bearer <token> header with {needed}.",
              headers={"WWW-Authenticate": "Bearer"})
    if token is not None:
        if writing and not token.allows("write"):
            abort(403, message=f"The token {token.name!r} may only read.")
        g.actor = token.name
        g.token = token


def require_admin():
    """A `before_request` hook, after `authorize`, for what only an admin token may do: 403 while
    no admin token is configured (saying how to configure one), 401 without a token, 403 for a
    token of a lower scope."""
    if request.method == "OPTIONS":
        return
    if not admin_configured():
        abort(403, message="This needs an admin token, and none is configured: add an entry name:admin:secret "
                           "to API_TOKENS.")
    token = g.get("token")
    if token is None:
        abort(401, message="This request needs an Authorization: Bearer <token> header with an admin token.",
              headers={"WWW-Authenticate": "Bearer"})
    if not token.allows("admin"):
        abort(403, message=f"The token {token.name!r} is not an admin token.")


def require_admin_to_erase():
    """A `before_request` hook, after `authorize`, for a blueprint whose DELETE erases history
    (deleting a mentor): once an admin token is configured, only an admin token may; until then,
    any write token, as for every other write."""
    if request.method != "DELETE" or not admin_configured():
        return
    token = g.get("token")  # never None here: `authorize` answered 401 to a write without a token
    if not token.allows("admin"):
        abort(403, message=f"Deleting a mentor erases its history: it needs an admin token, and {token.name!r} "
                           "is not one.")


def admin_configured():
    return any(token.scope == "admin" for token in current_app.config["TOKENS"])


def sent_token():
    """The configured token this request's Authorization header carries, else None; looked up once
    per request (the rate limit, which runs first, asks too)."""
    if "sent_token" not in g:
        tokens = current_app.config["TOKENS"]
        g.sent_token = _token_sent(request.headers.get("Authorization"), tokens) if tokens else None
    return g.sent_token


def _token_sent(authorization, tokens):
    """The configured token whose secret `authorization` carries as a bearer token, else None."""
    scheme, _, sent = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    sent = secret_digest(sent.strip())
    found = None
    for token in tokens:  # every digest is compared, in constant time: timing tells nothing of any
        if hmac.compare_digest(sent, token.digest):
            found = token
    return found


def actor():
    return g.get("actor", ANONYMOUS)
