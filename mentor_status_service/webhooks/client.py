"""The HTTP client of webhook deliveries: the host resolved once and checked against the URL rules,
the connection made to the checked address, a deadline on every attempt from connecting to the
last byte (deadlines.py), no redirects, and only a little of the answer read."""
import threading
from collections import OrderedDict
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import NamedTuple

import urllib3

from .deadlines import WatchedHTTPConnection, WatchedHTTPSConnection, deadline
from .urls import RefusedURL, check

MAX_RESPONSE_BYTES = 64 * 1024  # read of a receiver's answer, then the connection is dropped


POOLS_PER_THREAD = 8


USER_AGENT = "mentor-status-service-webhooks/1"


class Answer(NamedTuple):
    status_code: int = None
    retry_after_s: float = None
    error: str = None

    @property
    def acknowledged(self):
        return self.status_code is not None and 200 <= self.status_code < 300


class Client:
    """POSTs to webhook URLs: the host resolved once and checked, the connection made to the
    checked address, a deadline on every request, no redirects, no proxies from the environment,
    a little of the answer read and the rest dropped. Connections are kept per thread and address."""

    def __init__(self, settings):
        self._settings = settings
        self._timeout = urllib3.Timeout(connect=settings.timeout_s, read=settings.timeout_s,
                                        total=settings.timeout_s)
        self._local = threading.local()

    def post(self, url, body, headers, within_s=None):
        """POST `body` to `url`: the answer, or the error, within `within_s` seconds (at most the
        timeout) from connecting to the last byte read (deadlines.py)."""
        try:
            target = check(url, self._settings.allow_http, self._settings.allow_private)
        except RefusedURL as error:
            return Answer(error=f"refused: {error}")
        within_s = min(self._settings.timeout_s, within_s or self._settings.timeout_s)
        pool = self._pool(target)
        response = status = retry_after = error = None
        with deadline(within_s) as attempt:
            try:
                response = pool.urlopen("POST", target.path, body=body, headers={
                    **headers, "Host": target.host_header, "User-Agent": USER_AGENT}, redirect=False, retries=False,
                    timeout=urllib3.Timeout(connect=within_s, read=within_s), preload_content=False,
                    assert_same_host=False)
                status, retry_after = response.status, _retry_after_s(response.headers.get("Retry-After"))
                if len(response.read(MAX_RESPONSE_BYTES + 1, decode_content=False)) > MAX_RESPONSE_BYTES:
                    response.close()  # a receiver that answers at length is not read to its end
                    response = None
            except urllib3.exceptions.HTTPError as failure:
                if response is None:
                    error = _describe(failure)
                else:
                    response.close()  # the status came; what follows it does not matter
                    response = None
        if attempt.cut:  # its sockets were shut down: the connection is never used again
            if response is not None:
                response.close()
            return Answer(error="timed out")
        if error is not None:
            return Answer(error=error)
        if response is not None:
            response.release_conn()
        return Answer(status, retry_after)

    def _pool(self, target):
        pools = getattr(self._local, "pools", None)
        if pools is None:
            pools = self._local.pools = OrderedDict()
        key = (target.scheme, target.address, target.port, target.hostname)
        pool = pools.pop(key, None)
        if pool is None:
            options = {"maxsize": 1, "block": False, "retries": False, "timeout": self._timeout}
            if target.scheme == "https":
                pool = urllib3.HTTPSConnectionPool(target.address, target.port, server_hostname=target.hostname,
                                                   assert_hostname=target.hostname, cert_reqs="CERT_REQUIRED",
                                                   **options)
                pool.ConnectionCls = WatchedHTTPSConnection  # every socket known to its attempt's deadline
            else:
                pool = urllib3.HTTPConnectionPool(target.address, target.port, **options)
                pool.ConnectionCls = WatchedHTTPConnection
        pools[key] = pool
        while len(pools) > POOLS_PER_THREAD:
            pools.popitem(last=False)[1].close()
        return pool


def _describe(error):
    # First: urllib3's NewConnectionError (a refused or unreachable connection) subclasses
    # ConnectTimeoutError, and a refusal is not a timeout.
    if isinstance(error, urllib3.exceptions.NewConnectionError):
        return f"could not connect: {getattr(error, 'reason', None) or error}"[:300]
    if isinstance(error, urllib3.exceptions.TimeoutError):
        return "timed out"
    reason = getattr(error, "reason", None) or error
    return f"{type(reason).__name__}: {reason}"[:300]


def _retry_after_s(value):
    """A Retry-After header's delay in seconds (a number or an HTTP date), else None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - datetime.now(timezone.utc)).total_seconds())
