"""gunicorn settings, read by `gunicorn wsgi:app` from the repository root."""
import os

# Heroku-style: the platform gives PORT and WEB_CONCURRENCY.
bind = [f"0.0.0.0:{os.environ['PORT']}"] if "PORT" in os.environ else ["127.0.0.1:8000"]
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# Sync workers: one request per process at a time, one database connection each, kept open.
# Measured with bench/ (docs/benchmarks.md, "Worker settings compared"): sync 2-5 and gthread 2x4,
# 2x8, 4x2 gave the same ratios to the ceiling, because the service is CPU-bound in Python on two
# cores; gthread 2x4 gave more absolute req/s on PostgreSQL in a single noisy run, and LIBRARY_NOTES
# saw gthread's keep-alive imbalance halve throughput one run in ten. Sync is the simpler bet.
worker_class = "sync"
accesslog = None  # the app writes one access line per request, with its request id (LOG_FORMAT=json for JSON)
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
control_socket_disable = True  # nothing here uses gunicorn's runtime control socket
timeout = 30


def on_starting(server):
    """Refuse a configuration the service cannot start with; bring the schema up to date once, in
    the master, before any worker starts."""
    import sys

    from mentor_status_service.config import Config, ConfigurationError, check_access_settings
    from mentor_status_service.db import migrate, open_database

    config = Config()
    try:
        check_access_settings(config.as_dict())
    except ConfigurationError as error:
        sys.exit(f"mentor status service: refusing to start: {error}")
    database = open_database(config.DATABASE_URL)
    try:
        applied = migrate(database)
    finally:
        database.close()
    server.log.info("migrations applied: %s", ", ".join(applied) or "none pending")
