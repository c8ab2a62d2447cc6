"""CORS for browsers on the origins in CORS_ORIGINS; with none configured, no CORS headers at all."""
from flask_cors import CORS

from ..config import comma_separated

CORS_PATHS = (r"/api/.*", "/metrics", "/openapi.json")


def register_cors(app):
    origins = app.config["CORS_ORIGINS"]
    origins = list(comma_separated(origins) if isinstance(origins, str) else origins)
    if not origins:
        return
    CORS(app, resources={path: {} for path in CORS_PATHS}, origins=origins,
         methods=["GET", "POST", "PUT", "DELETE"],
         # Idempotency-Key too, or a browser could not retry a write safely.
         allow_headers=["Authorization", "Content-Type", "If-Match", "If-None-Match", "Idempotency-Key"],
         expose_headers=["ETag", "Location", "Link"],
         send_wildcard=True)  # with `*`, answer `*` rather than echo each origin
