"""RFC 8288 `Link` headers of list pages: first, last, previous and next, keeping every parameter."""
import math
from urllib.parse import quote, urlencode

from flask import request


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
