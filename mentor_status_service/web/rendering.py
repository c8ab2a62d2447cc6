"""Response bytes: Flask's JSON provider (orjson), and documents (shapes.py builds them) as responses."""
import orjson
from flask import current_app
from flask.json.provider import DefaultJSONProvider

_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


class JSONProvider(DefaultJSONProvider):
    """Flask's default provider, writing with orjson. What orjson refuses and the standard library
    writes (integers beyond 64 bits, strings with lone surrogates) falls back to the default, so
    every response reads as before; reading JSON stays the standard library's."""

    def dumps(self, obj, **kwargs):
        if not kwargs:
            try:
                return self._orjson(obj).decode()
            except orjson.JSONEncodeError:
                pass
        return super().dumps(obj, **kwargs)

    def response(self, *args, **kwargs):
        if (self.compact is None and current_app.debug) or self.compact is False or (args and kwargs):
            return super().response(*args, **kwargs)
        obj = (args[0] if len(args) == 1 else args) if args else (kwargs or None)  # as jsonify() takes them
        try:
            body = self._orjson(obj) + b"\n"
        except orjson.JSONEncodeError:
            return super().response(obj)
        return current_app.response_class(body, mimetype=self.mimetype)

    def _orjson(self, obj):
        options = _ORJSON_OPTIONS | (orjson.OPT_SORT_KEYS if self.sort_keys else 0)
        return orjson.dumps(obj, default=self.default, option=options)


def respond(document, status=200, headers=None):
    """A JSON response of `document`, a dict of this module's documents and plain values."""
    return current_app.response_class(body(document), status=status, headers=headers,
                                      mimetype="application/json")


def body(document):
    """The bytes of a response of `document`, as Flask's `jsonify` ends them."""
    return orjson.dumps(document) + b"\n"


def list_page(rows, render_row, page, limit, total):
    """The response of a list page: `rows` rendered by `render_row`, in the envelope every list has."""
    return respond({"data": [render_row(row) for row in rows],
                    "pagination": {"page": page, "limit": limit, "total": total}})


def list_response(rows, render_row, args, total, next_cursor):
    """The response of a page of a list (mentor statuses, pause records) asked for with `args`:
    `pagination` names the page unless a cursor asked for it, and always the next cursor."""
    pagination = {"limit": args["limit"], "total": total, "next_cursor": next_cursor}
    if "cursor" not in args:
        pagination = {"page": args["page"], **pagination}
    return respond({"data": [render_row(row) for row in rows], "pagination": pagination})
