"""gunicorn settings, read by `gunicorn wsgi:app` from the repository root."""
import os

from mentor_status_service.config import Config, describe_database

CONFIG = Config()  # refuses to start, with its message, on a setting it cannot run with

# Heroku-style: the platform gives PORT and WEB_CONCURRENCY.
bind = [f"0.0.0.0:{os.environ['PORT']}"] if "PORT" in os.environ else ["127.0.0.1:8000"]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads, so that a client sending its body slowly holds one thread, not a whole worker; the body
# has a deadline (REQUEST_BODY_TIMEOUT_S), and the database connections of a worker are a pool of
# DB_POOL_SIZE whatever the number of threads. gunicorn may hand most connections to one worker,
# so each has enough threads to keep serving while 16 of them wait on slow bodies.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "24"))
# Longer than the platform router keeps idle connections to the app open (Heroku's: 90 s), so the
# router never sends a request on a connection gunicorn is closing.
keepalive = 95
accesslog = None  # the app writes one access line per request, with its request id (LOG_FORMAT=json for JSON)
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
control_socket_disable = True  # nothing here uses gunicorn's runtime control socket
timeout = 30
# A migration in the master waits this long for the database before the workers start anyway.
MIGRATE_AT_START_CONNECT_TIMEOUT_S = 3


def on_starting(server):
    """Name the database, and bring its schema up to date once, in the master, before any worker
    starts. A database that does not answer yet is no reason to stop: the workers answer 503 and
    migrate themselves once it answers."""
    from peewee import InterfaceError, OperationalError

    from mentor_status_service.db import migrate, open_database

    server.log.info("database: %s", describe_database(CONFIG.DATABASE_URL))
    database = open_database(CONFIG.DATABASE_URL)
    if "connect_timeout" in database.connect_params:
        database.connect_params["connect_timeout"] = MIGRATE_AT_START_CONNECT_TIMEOUT_S
    try:
        applied = migrate(database)
    except (OperationalError, InterfaceError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        server.log.warning("database not reachable at start (%s); serving 503 until it answers, "
                           "then the workers bring its schema up to date", reason)
        return
    finally:
        database.close()
    server.log.info("migrations applied: %s", ", ".join(applied) or "none pending")
