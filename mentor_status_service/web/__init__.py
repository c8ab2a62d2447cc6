"""What every blueprint shares: the flask-smorest Api and a Blueprint that declares its scope (api.py),
who may read, write or administer (auth.py), ETags (etags.py), the handlers of every error
(errors.py), Idempotency-Key on every write (idempotency.py), Link headers (links.py), response
bytes (rendering.py), the shared schema fields (schemas.py), the documents and CSV cells derived
from a response schema (shapes.py), CORS, logs, metrics, security headers and the health probes.

Nothing here imports another wing but db: the wings register what they add (metrics collectors,
blueprints) in the app factory.
"""
