"""Response headers that protect clients: no content sniffing anywhere, no shared caching of the
API's data, and on the /docs page no framing and no script but the service's own."""
import base64
import hashlib
import re

from flask import request

API_PATH_PREFIX = "/api/"  # both path forms, and every error on them (404 and 405 included)
# Personal data: a browser may keep it only to revalidate with its ETag; shared caches never store it.
API_CACHE_CONTROL = "private, no-cache"
DOCS_ENDPOINT = "api-docs.openapi_swagger_ui"
# Swagger UI sets inline styles and shows data: icons; its one inline script is allowed by its hash.
DOCS_POLICY = ("default-src 'none'; script-src 'self' {scripts}; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; "
               "base-uri 'none'; form-action 'none'")
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def register_security_headers(app):
    app.after_request(add_security_headers)


def add_security_headers(response):
    response.headers["X-Content-Type-Options"] = "nosniff"
    if request.path.startswith(API_PATH_PREFIX):
        response.headers["Cache-Control"] = API_CACHE_CONTROL
    elif request.endpoint == DOCS_ENDPOINT:
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = docs_policy(response.get_data())
    return response


def docs_policy(page):
    """The Content-Security-Policy of the docs `page` (HTML bytes): its inline scripts by their
    hashes, which follow whatever the page's configuration renders into them."""
    hashes = [base64.b64encode(hashlib.sha256(script).digest()).decode() for script in _INLINE_SCRIPT.findall(page)]
    return DOCS_POLICY.format(scripts=" ".join(f"'sha256-{digest}'" for digest in hashes))
