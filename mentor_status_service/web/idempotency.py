"""Idempotency-Key on the API's writes: a client that retries a POST, PUT or DELETE with the same key
gets the first response again, and the write happens once.

How a write and its key are kept together, whatever crashes:

1. `claim`, a short transaction of its own, records the key with the request it came with (method,
   target, a digest of the body) and no response yet: the request is in flight, under a lease of
   `LEASE_S` seconds held by a random claim token. A concurrent duplicate now sees it (409), and a
   request that reuses the key for something else sees that too (422), even before the first ends.
2. The view then runs inside one outer transaction (the rules' own `database.atomic()` blocks
   become savepoints within it), and `_keep` stores the response in the key's row, as the last
   statement of that same transaction, only while the row is still claimed by this token. So the
   write and its response commit together or not at all.
3. A response of 500 or more (or an exception) rolls the transaction back and gives the claim up,
   so that a retry runs anew. A process that dies mid-request leaves its claim behind; once the
   lease has run out a retry takes the claim over (compare-and-set on the token), and the dead
   request, were it only slow, can no longer commit: `_keep` finds another token and rolls back.
"""
import functools
import hashlib
import logging
import re
import time
import uuid
from datetime import timedelta
from typing import NamedTuple

from flask import current_app, request
from flask_smorest import abort
from peewee import CompositeKey, DateTimeField, FloatField, IntegerField, TextField
from werkzeug.exceptions import HTTPException

from ..db import DATABASE_ERRORS, BaseModel, checkpoint_pending_erasure, database, utc_now
from ..db.sealed import SealedTextField
from ..errors import DomainError, error_body
from . import auth
from .etags import representation_tag
from .rendering import respond

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})
# How long a claim of a request in flight holds before another request may take it over: longer
# than any request runs (gunicorn's worker timeout is 30 s), so a claim is taken over only from a
# request whose process died.
LEASE_S = 60
IN_FLIGHT = f"A request with this {HEADER} is still running: retry it shortly."
_VALID_KEY = re.compile(r"[ -~]{1,255}")  # printable ASCII
DOCUMENTED_HEADER = {
    "name": HEADER, "in": "header", "required": False, "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "1 to 255 printable ASCII characters, chosen by the client for this one write: sent again "
                   "with the same method, target and body, the first response is returned again (with "
                   "Idempotent-Replayed: true) and nothing changes; with another request, 422; while the first "
                   "still runs, 409 with Retry-After. Kept per token for IDEMPOTENCY_TTL_H hours."}


class IdempotencyKey(BaseModel):
    actor = TextField()
    idempotency_key = TextField()
    method = TextField()
    target = TextField()
    body_digest = TextField()
    claim = TextField(null=True)
    lease_until = FloatField(null=True)
    status = IntegerField(null=True)
    body = SealedTextField(null=True)  # a webhook's creation or rotation carries its secret: encrypted with SECRETS_KEY
    location = TextField(null=True)
    etag = TextField(null=True)
    expires_at = DateTimeField()

    class Meta:
        table_name = "idempotency_key"
        primary_key = CompositeKey("actor", "idempotency_key")


class Sent(NamedTuple):
    """What makes two requests with one key the same request."""

    method: str
    target: str
    body_digest: str


def idempotent(view):
    """Wrap an API view: a POST, PUT or DELETE that sends Idempotency-Key runs at most once per key
    and actor, as the module says; any other request runs as it is."""

    @functools.wraps(view)
    def run(*args, **kwargs):
        if request.method not in WRITE_METHODS or HEADER not in request.headers:
            return view(*args, **kwargs)
        key = request.headers[HEADER]
        if not _VALID_KEY.fullmatch(key):
            _refuse("Must be 1 to 255 printable ASCII characters.")
        actor = auth.actor()
        sent = Sent(request.method, _target(), hashlib.sha256(request.get_data(cache=True)).hexdigest())
        outcome, found = claim(actor, key, sent, current_app.config["IDEMPOTENCY_TTL_H"])
        if outcome == "replay":
            return replayed(found)
        if outcome == "mismatch":
            _refuse("This key was sent with another request (method, path and query, or body): a key "
                    "stands for one request only.")
        if outcome == "in flight":
            _in_flight()
        return _run_and_keep(view, args, kwargs, actor, key, found)

    return run


def register_idempotency(app, blueprints):
    """Every view of `blueprints` honours Idempotency-Key on its writes (aliases share the view)."""
    names = tuple(f"{blueprint.name}." for blueprint in blueprints)
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.startswith(names):
            app.view_functions[endpoint] = idempotent(view)


def _target():
    """The request target as sent: its path and query string (the two path forms differ)."""
    query = request.query_string.decode("latin-1")
    return f"{request.path}?{query}" if query else request.path


def _refuse(problem):
    abort(422, message=f"{HEADER} is invalid: see errors.", errors={"headers": {HEADER: [problem]}})


def _in_flight():
    abort(409, message=IN_FLIGHT, headers={"Retry-After": "1"})


# The key's row, step by step

def _row(actor, key):
    return IdempotencyKey.select().where(
        (IdempotencyKey.actor == actor) & (IdempotencyKey.idempotency_key == key)).first()


def claim(actor, key, sent, ttl_hours):
    """In a transaction of its own: ("claimed", token) when this request may run (the key is new,
    expired, or its first request died); ("replay", row) when it ran; ("mismatch", row) when it came
    with another request; ("in flight", row) while its first request still runs."""
    token, now = uuid.uuid4().hex, utc_now()

    def insert():
        return database.execute(IdempotencyKey.insert(
            actor=actor, idempotency_key=key, method=sent.method, target=sent.target,
            body_digest=sent.body_digest, claim=token, lease_until=time.time() + LEASE_S,
            expires_at=now + timedelta(hours=ttl_hours)).on_conflict_ignore()).rowcount

    with database.atomic():
        # A new key, the usual case, is claimed by this one statement; the row is read only when it exists.
        if insert():
            return "claimed", token
        row = _row(actor, key)
        if row is None or row.expires_at <= now:  # expired, or deleted since the INSERT met it (given up)
            IdempotencyKey.delete().where((IdempotencyKey.actor == actor) & (IdempotencyKey.idempotency_key == key) &
                                          (IdempotencyKey.expires_at <= now)).execute()
            if insert():
                return "claimed", token
            row = _row(actor, key)  # a concurrent request with this key claimed it first
        if Sent(row.method, row.target, row.body_digest) != sent:
            return "mismatch", row
        if row.status is not None:
            return "replay", row
        if row.lease_until is not None and row.lease_until > time.time():
            return "in flight", row
        taken = IdempotencyKey.update(claim=token, lease_until=time.time() + LEASE_S).where(
            (IdempotencyKey.actor == actor) & (IdempotencyKey.idempotency_key == key) &
            (IdempotencyKey.claim == row.claim) & IdempotencyKey.status.is_null()).execute()
        if taken:
            logger.warning("%s: a request that claimed this key never finished; running it anew", HEADER)
            return "claimed", token
        return "in flight", row


class _NotKept(Exception):
    def __init__(self, response):
        super().__init__(response.status)
        self.response = response


def _run_and_keep(view, args, kwargs, actor, key, token):
    """Run the view and keep its response with the key, in one transaction; a response of 500 or
    more, or an exception, keeps nothing and gives the claim up."""
    try:
        with database.atomic():
            response = _response_of(view, args, kwargs)
            if response.status_code >= 500 or response.is_streamed:
                raise _NotKept(response)
            if not _keep(actor, key, token, response):  # its lease ran out and a retry took the key over
                raise _NotKept(respond(error_body(409, IN_FLIGHT), 409, {"Retry-After": "1"}))
    except _NotKept as not_kept:
        _give_up(actor, key, token)
        return not_kept.response
    except BaseException:
        _give_up(actor, key, token)
        raise
    checkpoint_pending_erasure()
    return response


def _response_of(view, args, kwargs):
    """The view's response, its refusals (4xx) included, as the app's error handlers answer them;
    other exceptions (a database fault) go on to `db_views.run_view` and the handlers."""
    try:
        return current_app.make_response(view(*args, **kwargs))
    except (DomainError, HTTPException) as error:
        return current_app.make_response(current_app.handle_user_exception(error))


def _keep(actor, key, token, response):
    """Within the write's transaction: the response, in the key's row, if this request still holds it."""
    body = response.get_data()
    return IdempotencyKey.update(
        status=response.status_code, body=body.decode("utf-8"), location=response.headers.get("Location"),
        etag=representation_tag(request.method, response.status_code, body), claim=None, lease_until=None).where(
        (IdempotencyKey.actor == actor) & (IdempotencyKey.idempotency_key == key) &
        (IdempotencyKey.claim == token)).execute()


def _give_up(actor, key, token):
    """Release the claim, so that a retry runs anew; if the database cannot be reached, the lease
    runs out instead."""
    try:
        IdempotencyKey.delete().where((IdempotencyKey.actor == actor) & (IdempotencyKey.idempotency_key == key) &
                                      (IdempotencyKey.claim == token)).execute()
    except DATABASE_ERRORS as error:
        logger.warning("%s: could not release the claim (it expires in %s s): %s", HEADER, LEASE_S, error)


def replayed(row):
    """The kept response again, marked as a replay."""
    response = current_app.response_class(row.body, status=row.status, headers={"Idempotent-Replayed": "true"},
                                          mimetype="application/json")
    if row.location:
        response.headers["Location"] = row.location
    if row.etag:
        response.set_etag(row.etag)
    return response


def prune_expired():
    """Delete every key past its expiry; returns how many."""
    return IdempotencyKey.delete().where(IdempotencyKey.expires_at <= utc_now()).execute()
