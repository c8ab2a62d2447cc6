"""gunicorn settings, read by `gunicorn wsgi:app` from the repository root."""
import os
import shutil
import tempfile

# /metrics sums the counts that each worker writes to its own file in PROMETHEUS_MULTIPROC_DIR.
# prometheus_client reads the variable when first imported (by the service's imports below), so it
# is set and the directory made first; on_starting empties it of an earlier run's files.
METRICS_TEMP_PREFIX = "mentor-status-metrics-"
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=METRICS_TEMP_PREFIX)
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from gunicorn.glogging import Logger
from prometheus_client import multiprocess

from mentor_status_service.config import Config, describe_database
from mentor_status_service.server.worker import DeadlineWorker
from mentor_status_service.web.logs import logging_config
from mentor_status_service.web.tracing import start_tracing, stop_tracing

CONFIG = Config()  # refuses to start, with its message, on a setting it cannot run with

# Heroku-style: the platform gives PORT and WEB_CONCURRENCY.
bind = [f"0.0.0.0:{os.environ['PORT']}"] if "PORT" in os.environ else ["127.0.0.1:8000"]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# gthread, with deadlines on request heads and bodies, both gathered on the worker's selector (a
# client trickling its headers or its body holds no thread), and JSON for the errors gunicorn
# answers itself.
worker_class = "mentor_status_service.server.worker.DeadlineWorker"
DeadlineWorker.header_timeout_s = CONFIG.REQUEST_HEADER_TIMEOUT_S  # the class gunicorn loads by that name
DeadlineWorker.body_timeout_s = CONFIG.REQUEST_BODY_TIMEOUT_S
DeadlineWorker.body_buffer_bytes = CONFIG.MAX_CONTENT_LENGTH
DeadlineWorker.send_timeout_s = CONFIG.SEND_TIMEOUT_S
threads = int(os.environ.get("GUNICORN_THREADS", "24"))
# Longer than the platform router keeps idle connections to the app open (Heroku's: 90 s), so the
# router never sends a request on a connection gunicorn is closing.
keepalive = 95
accesslog = None  # the app writes one access line per request, with its request id and actor
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# gunicorn's own lines (boot, workers, WORKER TIMEOUT) through the service's handler and format.
logconfig_dict = logging_config(CONFIG.LOG_FORMAT, CONFIG.LOG_LEVEL, for_gunicorn=True)
control_socket_disable = True  # nothing here uses gunicorn's runtime control socket
timeout = 30
# A migration in the master waits this long for the database before the workers start anyway.
MIGRATE_AT_START_CONNECT_TIMEOUT_S = 3


class ServiceLogger(Logger):
    def access(self, resp, req, environ, request_time):
        """Nothing: the app writes the access line. A logconfig_dict would otherwise have gunicorn
        build its own line's fields on every request, only to drop them."""


logger_class = ServiceLogger


def on_starting(server):
    """Name the database, and bring its schema up to date once, in the master, before any worker
    starts. A database that does not answer yet is no reason to stop: the workers answer 503 and
    migrate themselves once it answers."""
    from peewee import InterfaceError, OperationalError

    from mentor_status_service.db import first_line, migrate, open_database
    from mentor_status_service.db.sealed import configure
    from mentor_status_service.webhooks.secrets_at_rest import seal_stored_secrets

    empty_metrics_directory()
    server.log.info("database: %s", describe_database(CONFIG.DATABASE_URL))
    database = open_database(CONFIG.DATABASE_URL)
    if "connect_timeout" in database.connect_params:
        database.connect_params["connect_timeout"] = MIGRATE_AT_START_CONNECT_TIMEOUT_S
    configure(CONFIG.SECRETS_CIPHER)  # warns at start without SECRETS_KEY
    try:
        applied = migrate(database)
        with database.connection_context():
            seal_stored_secrets(database)
    except (OperationalError, InterfaceError) as error:
        server.log.warning("database not reachable at start (%s); serving 503 until it answers, "
                           "then the workers bring its schema up to date", first_line(error))
        return
    finally:
        database.close()
    server.log.info("migrations applied: %s", ", ".join(applied) or "none pending")


def empty_metrics_directory():
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    for name in os.listdir(directory):
        os.remove(os.path.join(directory, name))


def post_fork(server, worker):
    """Traces (when OTEL_EXPORTER_OTLP_ENDPOINT is set) are exported by each worker's own provider:
    the SDK's export thread does not survive a fork, so it is made here, in the worker."""
    start_tracing(CONFIG.TRACING)


def worker_exit(server, worker):
    """Send the worker's last spans before it exits."""
    stop_tracing()


def post_worker_init(worker):
    """Each worker applies pauses' moments from a thread of its own as soon as it boots, not only
    once a request arrives: `gunicorn wsgi:app` alone keeps schedules on time. Only the service's app
    (wsgi.py installs it) has one; another app served with this configuration (the benchmark's) has none."""
    start = getattr(worker.wsgi, "extensions", {}).get("pause_schedule")
    if start is not None:
        start()


def child_exit(server, worker):
    """A worker's counters stay in the sums; its live gauges go."""
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics directory if this file made it."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    if os.path.dirname(directory) == tempfile.gettempdir() and \
            os.path.basename(directory).startswith(METRICS_TEMP_PREFIX):
        shutil.rmtree(directory, ignore_errors=True)
