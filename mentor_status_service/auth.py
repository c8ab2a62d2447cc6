"""Who may read and who may write: bearer tokens, their scopes, and the actor of each request.

Decided in a `before_request` hook, so a refused request never has its body read nor touches the
database. With no token configured every request is anonymous and public.
"""
import hmac

from flask import current_app, g, request
from flask_smorest import abort

ANONYMOUS = "anonymous"
READ_METHODS = frozenset({"GET", "HEAD"})
BEARER_AUTH = "bearerAuth"
SECURITY_SCHEME = {"type": "http", "scheme": "bearer",
                   "description": "A token named by the operator (API_TOKENS or API_WRITE_TOKENS). Writes need "
                                  "a write token once any token is configured; reads need a read or write token "
                                  "when API_PUBLIC_READS is false."}


def authorize():
    """A `before_request` hook for everything that serves the API's data: 401 without a valid token
    where one is needed (or with a wrong one, anywhere), 403 for a read token on a write."""
    g.actor = ANONYMOUS
    tokens = current_app.config["TOKENS"]
    if not tokens or request.method == "OPTIONS":  # a CORS preflight never carries credentials
        return
    token = _token_sent(request.headers.get("Authorization"), tokens)
    writing = request.method not in READ_METHODS
    if token is None and (writing or "Authorization" in request.headers or not current_app.config["PUBLIC_READS"]):
        needed = "a write token" if writing else "a read or write token"
        abort(401, message=f"This request needs an Authorization: Bearer <token> header with {needed}.",
              headers={"WWW-Authenticate": "Bearer"})
    if token is not None:
        if writing and token.scope != "write":
            abort(403, message=f"The token {token.name!r} may only read.")
        g.actor = token.name


def _token_sent(authorization, tokens):
    """The configured token whose secret `authorization` carries as a bearer token, else None."""
    scheme, _, sent = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    sent = sent.strip().encode("utf-8", "surrogateescape")
    found = None
    for token in tokens:  # every secret is compared, in constant time: timing tells nothing of any
        if hmac.compare_digest(sent, token.secret.encode("utf-8")):
            found = token
    return found


def actor():
    return g.get("actor", ANONYMOUS)
