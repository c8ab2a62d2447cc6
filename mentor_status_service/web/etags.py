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
    if tags_representation(request.method, response.status_code):
        response.add_etag()  # unless set already: a replayed write keeps the tag it was answered with
        if request.method in ("GET", "HEAD"):
            response.make_conditional(request)
    return response


def tags_representation(method, status):
    """Whether a response of `status` to a request of `method` returns a representation, which gets
    an ETag (a DELETE's confirmation is not one)."""
    return status in (200, 201) and method != "DELETE"


def representation_tag(method, status, body):
    """The ETag (unquoted) that `tag_representation` gives a response with `body`, or None."""
    return generate_etag(body) if tags_representation(method, status) else None


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
