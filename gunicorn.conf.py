"""gunicorn settings, read by `gunicorn wsgi:app` from the repository root."""
import os
import shutil
import tempfile

from gunicorn.glogging import Logger

# Heroku-style: the platform gives PORT and WEB_CONCURRENCY.
bind = [f"0.0.0.0:{os.environ['PORT']}"] if "PORT" in os.environ else ["127.0.0.1:8000"]
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# Sync workers: one request per process at a time, one database connection each, kept open.
# Measured with bench/ (docs/benchmarks.md, "Worker settings compared"): sync 2-5 and gthread 2x4,
# 2x8, 4x2 gave the same ratios to the ceiling, because the service is CPU-bound in Python on two
# cores; gthread 2x4 gave more absolute req/s on PostgreSQL in a single noisy run, and an earlier
# prototype saw gthread's keep-alive imbalance halve throughput one run in ten. Sync is the simpler bet.
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
    empty_metrics_directory()
    database = open_database(config.DATABASE_URL)
    try:
        applied = migrate(database)
    finally:
        database.close()
    server.log.info("migrations applied: %s", ", ".join(applied) or "none pending")


# /metrics sums the counts that each worker writes to its own file in PROMETHEUS_MULTIPROC_DIR.
# prometheus_client reads the variable when first imported (by the imports below), so it is set
# and the directory made here; on_starting empties it of an earlier run's files, once per start.
METRICS_TEMP_PREFIX = "mentor-status-metrics-"
if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=METRICS_TEMP_PREFIX)
os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from mentor_status_service.config import Config  # noqa: E402  (after PROMETHEUS_MULTIPROC_DIR is set)
from mentor_status_service.logs import logging_config  # noqa: E402
from prometheus_client import multiprocess  # noqa: E402

# gunicorn's own lines (boot, workers, WORKER TIMEOUT) through the service's handler and format.
logconfig_dict = logging_config(Config().LOG_FORMAT, Config().LOG_LEVEL, for_gunicorn=True)


class ServiceLogger(Logger):
    def access(self, resp, req, environ, request_time):
        """Nothing: the app writes the access line. A logconfig_dict would otherwise have gunicorn
        build its own line's fields on every request, only to drop them."""


logger_class = ServiceLogger


def empty_metrics_directory():
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    for name in os.listdir(directory):
        os.remove(os.path.join(directory, name))


def child_exit(server, worker):
    """A worker's counters stay in the sums; its live gauges go."""
    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics directory if this file made it."""
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    if os.path.dirname(directory) == tempfile.gettempdir() and \
            os.path.basename(directory).startswith(METRICS_TEMP_PREFIX):
        shutil.rmtree(directory, ignore_errors=True)
