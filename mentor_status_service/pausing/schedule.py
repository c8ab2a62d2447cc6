"""Pauses' moments applied without a request: every SCHEDULE_CHECK_S / 2 seconds, the moments due by
the database's clock are read along the index of next moments and applied by
`moment_rules.apply_due_moments`, many per transaction, by the actor `job:schedule`.

Who runs it: a daemon thread in every gunicorn worker (started by gunicorn.conf.py's
`post_worker_init`, and at the latest by the worker's first request), so that `gunicorn wsgi:app`
alone applies every moment; `flask --app wsgi schedule run` (commands.py, the Procfile's `scheduler`)
may share the work, or do it all when SCHEDULE_IN_WEB=false keeps it out of the web workers.
However many run, each moment is applied once: `apply_due_moments` locks the mentors as every write
does and applies only what is still due under those locks. On SQLite each batch takes its fair
write turn like any request (db/turns.py). A failure is logged and the next look tries again; the
thread itself never ends but with its process.
"""
import datetime as dt
import logging
import os
import threading

from ..changes.log import acting_as
from ..db import (
    DATABASE_ERRORS,
    database,
    discard_connection,
    ensure_schema,
    first_line,
    is_postgresql,
    release_connection,
)
from . import moment_rules, pause_record_lists

logger = logging.getLogger(__name__)

ACTOR = "job:schedule"
LOOK = 2000  # due moments read at a time
POSTGRESQL_BATCH = 500
SQLITE_BATCH = 50
_PG_NOW = "SELECT statement_timestamp() AT TIME ZONE 'UTC'"
_SQLITE_NOW = "SELECT strftime('%Y-%m-%d %H:%M:%S', 'now')"


def database_now():
    """The database's clock, as naive UTC to the second: every process and instance compares the
    moments with one clock, whatever their own clocks say."""
    value = database.obj.execute_sql(_PG_NOW if is_postgresql() else _SQLITE_NOW).fetchone()[0]
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(microsecond=0, tzinfo=None)


def batch_size():
    """Moments per transaction: on SQLite few enough that a batch holds the write lock for about as
    long as a bulk write, so that writes meanwhile keep their turns; on PostgreSQL, where a batch
    locks only its own mentors, many."""
    return POSTGRESQL_BATCH if is_postgresql() else SQLITE_BATCH


def apply_due(now=None):
    """Apply every moment due at `now` (by default the database's clock now), earliest first (a pause
    that was to begin and end before the next one of its mentor begins is applied in that order,
    however late), `batch_size()` moments per transaction; returns how many were applied. A batch
    that fails is applied again one moment per transaction, so that only the moment that fails is
    logged and left due, for the next look; a database that does not answer ends the round."""
    now = now or database_now()
    applied, failed, busy, size = 0, set(), set(), batch_size()
    while True:
        left_out = failed | busy  # until the next look: failed, or held by another transaction
        due = pause_record_lists.due_moments(now, LOOK + len(left_out))
        numbers = [number for number in due if number not in left_out]
        if not numbers:
            return applied
        for start in range(0, len(numbers), size):
            for done in _apply_batch(numbers[start:start + size], now, failed):
                applied += len(done.kinds)
                busy |= done.busy


def _apply_batch(numbers, now, failed):
    """What applying `numbers` did: one transaction for them all, or one each if that one fails
    (those that fail again join `failed`)."""
    try:
        with acting_as(ACTOR):
            return [moment_rules.apply_due_moments(numbers, now)]
    except DATABASE_ERRORS:
        raise
    except Exception:
        if len(numbers) == 1:
            logger.exception("applying the moment of pause record %s failed; it is tried again at the next look",
                             numbers[0])
            failed.add(numbers[0])
            return []
        logger.warning("applying %d moments together failed; applying them one by one", len(numbers), exc_info=True)
    return [done for number in numbers for done in _apply_batch([number], now, failed)]


class Scheduler:
    """Looks for due moments every `interval_s` until stopped."""

    def __init__(self, app, interval_s):
        self.app = app
        self.interval_s = interval_s
        self.stopping = threading.Event()

    @classmethod
    def of(cls, app):
        # Half the promised delay between looks: a moment is applied within SCHEDULE_CHECK_S of passing.
        return cls(app, app.config["SCHEDULE_CHECK_S"] / 2)

    def run_once(self):
        """One look: apply what is due; log, never raise, what goes wrong. Returns how many were applied."""
        try:
            with self.app.app_context():
                ensure_schema()
                applied = apply_due()
            if applied:
                logger.info("scheduled moments: %d applied", applied)
            return applied
        except DATABASE_ERRORS as error:
            logger.warning("scheduled moments: database unavailable, trying again in %gs: %s", self.interval_s,
                           first_line(error))
            discard_connection(all_idle=True)
        except Exception:
            logger.exception("scheduled moments: applying failed, trying again in %gs", self.interval_s)
            discard_connection()
        finally:
            release_connection()
        return 0

    def run(self):
        """Look until `stop`; only the end of the process ends it otherwise."""
        logger.info("scheduled moments: looking every %gs (process %s)", self.interval_s, os.getpid())
        try:
            while not self.stopping.is_set():
                self.run_once()
                self.stopping.wait(self.interval_s)
        except BaseException:
            logger.critical("scheduled moments: the applier stopped", exc_info=True)
            raise

    def stop(self, *_signal):
        self.stopping.set()


_started_in = {}  # pid -> its Scheduler
_start_lock = threading.Lock()


def start_in_background(app):
    """Start this process's applier thread, once per process (a forked worker starts its own)."""
    if os.getpid() in _started_in:
        return _started_in[os.getpid()]
    with _start_lock:
        if os.getpid() in _started_in:
            return _started_in[os.getpid()]
        scheduler = _started_in[os.getpid()] = Scheduler.of(app)
    threading.Thread(target=scheduler.run, name="schedule", daemon=True).start()
    return scheduler


def install(app):
    """Have whatever process serves `app` apply pauses' moments: gunicorn.conf.py starts the applier
    as soon as a worker boots (through `app.extensions["pause_schedule"]`), and at the latest the
    process's first request does. With SCHEDULE_IN_WEB false, nothing: `flask --app wsgi schedule run`
    processes apply them instead, outside the request path."""
    if not app.config["SCHEDULE_IN_WEB"]:
        return
    app.extensions["pause_schedule"] = lambda: start_in_background(app)

    @app.before_request
    def start_applier():
        start_in_background(app)
