"""The Flask class the service runs on: Flask, but for one cost per hook and per request."""
import types

from flask import Flask


class ServiceFlask(Flask):
    """Flask asks `ensure_sync` of every before/after-request hook, view and teardown function, on
    every request (about twenty here), and each answer inspects the function's code flags. The
    answer of a plain function never changes, so it is kept; anything else (a bound method of a
    view made per request, a coroutine function) is answered as Flask does, and never kept."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sync = {}

    def ensure_sync(self, func):
        if type(func) is not types.FunctionType:
            return super().ensure_sync(func)
        try:
            return self._sync[func]
        except KeyError:
            sync = self._sync[func] = super().ensure_sync(func)
            return sync
