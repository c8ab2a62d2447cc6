"""ETags on every representation: 304 for a matching If-None-Match, and the If-Match check that a
write runs on the resource it has locked."""
import time

import xxhash
from flask import request
from werkzeug.http import http_date, quote_etag

from ..errors import PreconditionFailed
from ..web import rendering

ETAG_HEADER = {"ETag": {"description": "Tag of the representation, for If-None-Match and If-Match",
                        "schema": {"type": "string"}}}
IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
                 "description": "An ETag from an earlier read: 304 Not Modified while it still matches."}
IF_MATCH = {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
            "description": "An ETag from an earlier read, or *: the write happens only if the resource still "
                           "matches it, else 412 (also when the resource does not exist). Optional."}


def tag_of(body):
    """The strong ETag of a body (its bytes): XXH3-128 of them, a twentieth of SHA-1's cost on a list
    page. Not a secret nor a signature: it only has to change when the bytes do."""
    return xxhash.xxh3_128_hexdigest(body)


# What makes werkzeug's `make_conditional` do more than add a Date header: without any of them, the
# response is sent as it is (a 200), and reading them all costs more than the rest of the hook.
_CONDITIONAL_HEADERS = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_RANGE",
                        "HTTP_IF_RANGE")


def tag_representation(response):
    """An `after_request` hook: ETag every representation returned; a matching If-None-Match is 304.
    A streamed body (a CSV export) is never read whole to tag it."""
    if response.is_streamed:
        return response
    method = request.method
    if tags_representation(method, response.status_code):
        headers = response.headers
        if not _has(headers, "etag"):  # unless set already: a replayed write keeps the tag it was answered with
            headers["ETag"] = quote_etag(tag_of(response.get_data()))
        if method in ("GET", "HEAD"):
            environ = request.environ
            if any(name in environ for name in _CONDITIONAL_HEADERS):
                response.make_conditional(request)
            elif not _has(headers, "date"):  # all that `make_conditional` would do
                headers["Date"] = _http_date_now()
    return response


def tags_representation(method, status):
    """Whether a response of `status` to a request of `method` returns a representation, which gets
    an ETag (a DELETE's confirmation is not one)."""
    return status in (200, 201) and method != "DELETE"


def representation_tag(method, status, body):
    """The ETag (unquoted) that `tag_representation` gives a response with `body`, or None."""
    return tag_of(body) if tags_representation(method, status) else None


def _has(headers, lowercase_name):
    """`name in headers`, without the KeyError (a werkzeug exception, costly to make) that it raises
    and catches when the header is absent, as it usually is here."""
    return any(name.lower() == lowercase_name for name, _ in headers.items())


_date = [0, ""]  # the second last formatted, and its text: formatted once per second


def _http_date_now():
    second = int(time.time())
    if _date[0] != second:
        _date[:] = [second, http_date(second)]
    return _date[1]


def if_match(render):
    """The check a write runs on the resource it has locked (None when it does not exist), when the
    request sent If-Match: 412 unless the resource is still the one the client saw, as `render`
    (a function of `rendering`) shows it. None without If-Match."""
    if not request.if_match:
        return None

    def check(current):
        if current is None:
            raise PreconditionFailed("If-Match was sent, and the resource does not exist.")
        if request.if_match.star_tag:
            return
        if not request.if_match.contains(tag_of(rendering.body(render(current)))):
            raise PreconditionFailed("The resource has changed since the ETag in If-Match was read.")

    return check
