"""ETags on every representation: 304 for a matching If-None-Match, and the If-Match check that a
write runs on the resource it has locked."""
from flask import request
from werkzeug.http import generate_etag

from ..errors import PreconditionFailed
from ..web import rendering

ETAG_HEADER = {"ETag": {"description": "Tag of the representation, for If-None-Match and If-Match",
                        "schema": {"type": "string"}}}
IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
                 "description": "An ETag from an earlier read: 304 Not Modified while it still matches."}
IF_MATCH = {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
            "description": "An ETag from an earlier read, or *: the write happens only if the resource still "
                           "matches it, else 412 (also when the resource does not exist). Optional."}


def tag_representation(response):
    """An `after_request` hook: ETag every representation returned; a matching If-None-Match is 304.
    A streamed body (a CSV export) is never read whole to tag it."""
    if response.is_streamed:
        return response
    if response.status_code in (200, 201) and request.method != "DELETE":
        response.add_etag()
        if request.method in ("GET", "HEAD"):
            response.make_conditional(request)
    return response


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
        if not request.if_match.contains(generate_etag(rendering.body(render(current)))):
            raise PreconditionFailed("The resource has changed since the ETag in If-Match was read.")

    return check
