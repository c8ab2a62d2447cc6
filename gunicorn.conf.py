"""gunicorn settings, read by `gunicorn wsgi:app` from the repository root."""
import os

# Heroku-style: the platform gives PORT and WEB_CONCURRENCY.
bind = [f"0.0.0.0:{os.environ['PORT']}"] if "PORT" in os.environ else ["127.0.0.1:8000"]
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# Sync workers: one request per process at a time, one database connection each, kept open.
# Measured in bench/ (docs/benchmarks.md): see the README's "Performance" section.
worker_class = "sync"
accesslog = None  # the app writes one access line per request, with its request id (LOG_FORMAT=json for JSON)
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
control_socket_disable = True  # nothing here uses gunicorn's runtime control socket
timeout = 30


def on_starting(server):
    """Bring the schema up to date once, in the master, before any worker starts."""
    from mentor_status_service.config import Config
    from mentor_status_service.db import migrate, open_database

    database = open_database(Config().DATABASE_URL)
    try:
        applied = migrate(database)
    finally:
        database.close()
    server.log.info("migrations applied: %s", ", ".join(applied) or "none pending")
