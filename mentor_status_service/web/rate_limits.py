"""Fair use: at most `RATE_LIMIT` API requests per actor in each window, counted by Flask-Limiter.

The actor is the token's name, or for `anonymous` (no token, or one that matches none) the client's
address. The check runs in an app-level `before_request` hook (Flask-Limiter's), so before the
blueprints' own hooks: a request over the limit is refused before auth, before its body is parsed
and before the database is touched, and requests refused by auth count too (guessing tokens is
limited). Only paths under /api/ count: the probes, /metrics, /openapi.json and /docs never do, nor
do CORS preflights, which carry no token.

With `redis://` storage, a Redis that does not answer within a second lets the request through
(fair use must never take the API down): the request is counted in /metrics, a WARNING is logged
at most once a minute per process, and for the next few seconds requests pass without asking it.
"""
import functools
import ipaddress
import logging
import math
import threading
import time

from flask import current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from limits import parse
from limits.storage import MemoryStorage

from ..errors import error_body
from . import auth
from .headers import API_PATH_PREFIX
from .metrics import RATE_LIMIT_UNCHECKED

logger = logging.getLogger(__name__)

POLICY_NAME = "default"  # the one policy the RateLimit-Policy and RateLimit headers name
KEY_PREFIX = "mentor-status"  # keys of this service in a Redis that others may share
STORAGE_TIMEOUT_S = 1  # a Redis slower than this to connect or answer is taken as down
PASS_UNCHECKED_FOR_S = 5  # after a storage failure, requests pass without waiting on it again this long
LOG_FAILURE_EVERY_S = 60
IPV6_CLIENT_PREFIX = 64  # one IPv6 client holds a whole /64: count it as one address


class FailOpenLimiter(Limiter):
    """Flask-Limiter that lets a request through when its storage fails, instead of a 500.

    Flask-Limiter's own `swallow_errors` logs every failure with its traceback; this counts each
    one, logs at most once a minute, and skips the storage for a few seconds after a failure, so a
    Redis that hangs costs one request a second's wait, not every request. Overrides
    `_check_request_limit`, the method Flask-Limiter registers as its `before_request` hook (pinned
    version; tests/api/test_rate_limits.py's fail-open tests break first if it changes)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._unchecked_until = 0.0
        self._logged_at = -math.inf
        self._log_lock = threading.Lock()

    def _check_request_limit(self, *args, **kwargs):
        if time.monotonic() < self._unchecked_until and not _exempt():
            RATE_LIMIT_UNCHECKED.inc()
            return
        try:
            super()._check_request_limit(*args, **kwargs)
        except RateLimitExceeded:
            raise
        except self.storage.base_exceptions as error:
            self._unchecked_until = time.monotonic() + PASS_UNCHECKED_FOR_S
            RATE_LIMIT_UNCHECKED.inc()
            self._log_failure(error)

    def _log_failure(self, error):
        with self._log_lock:
            now = time.monotonic()
            if now - self._logged_at < LOG_FAILURE_EVERY_S:
                return
            self._logged_at = now
        logger.warning("rate limit storage did not answer (%s: %s): letting requests through unchecked; "
                       "logged at most once a minute", type(error).__name__, str(error)[:200])


class SweptMemoryStorage(MemoryStorage):
    """limits' memory storage (`memory://`), less its timer thread. Its `incr` starts a new
    `threading.Timer` whenever the last one has fired (10 ms after it started) to drop expired
    counts: under load, a thread started every few requests, each start waiting for the new thread
    to run (0.2 ms a request on average in-process, more under gunicorn's threads). Here the
    counts that expired are dropped by the request that finds `SWEEP_EVERY_S` passed since the
    last sweep, in its own thread. A count is still reset the moment its window ends (`get` drops
    it when read): only memory is swept later, at most `SWEEP_EVERY_S` after. Overrides the
    storage's private `__schedule_expiry` (pinned version; tests/api/test_rate_limits.py breaks
    first if it changes)."""

    STORAGE_SCHEME = ["mentor-status-memory"]  # limits registers the class under this scheme
    SWEEP_EVERY_S = 10

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._next_sweep = time.monotonic() + self.SWEEP_EVERY_S
        self._sweeping = threading.Lock()

    def _MemoryStorage__schedule_expiry(self):
        if time.monotonic() < self._next_sweep or not self._sweeping.acquire(blocking=False):
            return
        try:
            self._next_sweep = time.monotonic() + self.SWEEP_EVERY_S
            self._MemoryStorage__expire_events()
        finally:
            self._sweeping.release()


def limiter_storage_url(url):
    """The storage URL Flask-Limiter is given for `RATE_LIMIT_STORAGE_URL`: `memory://` is counted
    by `SweptMemoryStorage`, the same counts without a thread per window."""
    if url.startswith("memory://"):
        return f"{SweptMemoryStorage.STORAGE_SCHEME[0]}://{url[len('memory://'):]}"
    return url


def init_app(app):
    """Limit the API's requests when `RATE_LIMIT` is set; otherwise add nothing at all."""
    limit = app.config["RATE_LIMIT"]
    if not limit:
        return
    limiter = FailOpenLimiter(
        key_func=actor_key,
        application_limits=[limit],  # one budget per actor across every route
        storage_uri=limiter_storage_url(app.config["RATE_LIMIT_STORAGE_URL"]),
        storage_options=storage_options(app.config["RATE_LIMIT_STORAGE_URL"]),
        strategy="fixed-window",
        key_prefix=KEY_PREFIX,
        # An unmatched path (a 404 or 405 under /api/) counts like any request.
        request_identifier=lambda: request.endpoint or "unmatched",
        swallow_errors=False,  # FailOpenLimiter decides what a storage failure does
        headers_enabled=False,  # the IETF headers below replace its X-RateLimit-* ones
    )
    limiter.request_filter(_exempt)
    limiter.init_app(app)
    app.extensions["rate_limiter"] = limiter
    app.register_error_handler(RateLimitExceeded, too_many_requests)
    policy = policy_header(parse(limit))
    app.after_request(lambda response: add_rate_limit_headers(limiter, policy, response))


def storage_options(url):
    """Redis client options: a second to connect or answer, and no retries (the default retries three
    times with backoff, which would hold a request for several seconds while Redis is down)."""
    if url.startswith("memory://"):
        return {}
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return {"socket_timeout": STORAGE_TIMEOUT_S, "socket_connect_timeout": STORAGE_TIMEOUT_S,
            "retry": Retry(NoBackoff(), 0)}


def _exempt():
    return not request.path.startswith(API_PATH_PREFIX) or request.method == "OPTIONS"


def actor_key():
    """Whose budget a request spends: its token's name, or for `anonymous` its client address."""
    token = auth.sent_token()
    if token is not None:
        return f"actor:{token.name}"
    return f"address:{client_address()}"


def client_address():
    """The client's address: the last X-Forwarded-For hop when the peer is a proxy that
    FORWARDED_ALLOW_IPS trusts (the hop that proxy added itself), else the peer's own address.
    IPv6 addresses are reduced to their /64."""
    return _client_address(request.remote_addr, request.headers.get("X-Forwarded-For"),
                           current_app.config["FORWARDED_ALLOW_IPS"])


# Parsing addresses is most of a key's cost, and a few clients (or proxies) send most requests.
@functools.lru_cache(maxsize=4096)
def _client_address(remote_addr, forwarded, trusted):
    peer = _address(remote_addr)
    address = peer
    if forwarded and peer is not None and _trusted(peer, trusted):
        address = _address(forwarded.rsplit(",", 1)[-1]) or peer
    if address is None:
        return remote_addr or "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(address)


def _address(text):
    try:
        return ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None


def _trusted(peer, trusted):
    return trusted == "*" or any(peer in network for network in trusted)


def too_many_requests(error):
    """429 in the service's one error shape, with Retry-After: the seconds until the window starts
    again (the whole window, should the storage fail just now)."""
    limiter = current_app.extensions["rate_limiter"]
    try:
        retry_after = _seconds_to_reset(limiter.current_limit) or 1
    except limiter.storage.base_exceptions:
        retry_after = error.limit.limit.get_expiry()
    message = f"Over the rate limit of {error.limit.limit}: try again in {retry_after} s."
    return error_body(429, message), 429, {"Retry-After": str(retry_after)}


def policy_header(item):
    """RateLimit-Policy: the same on every response, so written once."""
    return f'"{POLICY_NAME}";q={item.amount};w={item.get_expiry()}'


def add_rate_limit_headers(limiter, policy, response):
    """The IETF RateLimit-Policy and RateLimit headers (structured fields) on every counted response."""
    current = limiter.current_limit
    if current is None:
        return response
    try:
        reset_at, remaining = current.window  # one read of the storage for both figures
    except limiter.storage.base_exceptions:
        return response  # the storage failed after counting this request: no figures to give
    response.headers["RateLimit-Policy"] = policy
    response.headers["RateLimit"] = f'"{POLICY_NAME}";r={max(0, remaining)};t={_seconds_until(reset_at)}'
    return response


def _seconds_to_reset(current):
    if current is None:
        return None
    return _seconds_until(current.window.reset_time)


def _seconds_until(moment):
    return max(0, math.ceil(moment - time.time()))
