"""The delivery loop: the process that delivers the change log to every enabled webhook, and keeps
doing so until SIGTERM (started by `webhooks deliver`, commands.py).

How it keeps the promises of docs/webhooks.md:

- **In order, one at a time, nothing lost.** Each webhook's position (`delivered_through`) moves
  only after its receiver answered an entry with a 2xx, and the next entry is read from the feed
  after that position (`change_log.feed`, as any feed reader). A process killed at any moment has
  acknowledged nothing it did not deliver: whoever goes on sends the unacknowledged entry again.
- **One process per webhook at a time.** A process works on a webhook only under its lease: a
  column with an owner and an expiry, taken by one conditional UPDATE (so it holds on SQLite, on
  PostgreSQL and through a transaction-pooling PgBouncer, where session advisory locks do not),
  renewed before any request that could outlast it (so a request always ends well before the lease
  does), and released when done. A
  killed process's lease expires after `lease_s` and another process takes over. Acknowledgements
  and failures are written only while the lease is held, and a replay moves `position_version`, so
  a request still in flight from an old position cannot move the new one.
- **One failing webhook never delays another.** Each leased webhook has its own thread (up to
  WEBHOOK_DELIVERY_THREADS), a webhook waiting for its next retry holds no thread at all, and a busy
  webhook gives its thread up every TURN_S for the dispatcher to choose again, at random among those due.
- **Erasure.** A batch of entries read from the feed is read again once it is a second old, and
  after every failure, so an erased mentor's undelivered entries, gone from the feed, are not sent.
- **SSRF.** Every request resolves the URL's host once, checks the addresses (urls.py) and
  connects to the checked address, with the URL's name as Host and TLS server name; redirects are
  never followed (a 3xx is a failure, as any non-2xx).
"""
import logging
import os
import random
import socket
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import NamedTuple

from ..changes import log as change_log
from ..db import DATABASE_ERRORS, connected, discard_connection, ensure_schema, first_line, utc_now
from ..errors import Gone
from ..web import tracing
from . import outcomes
from .client import Client
from .messages import message, signing_secrets
from .models import Webhook
from .secrets import signature_header

logger = logging.getLogger(__name__)

BATCH_SIZE = 100
BATCH_MAX_AGE_S = 1.0  # a batch older than this is read again: erased entries must not go out
LEASE_MARGIN_S = 5
SLOW_AFTER_S = 0.5  # an attempt in flight longer than this moves its webhook to the slow lane
FAST, SLOW = LANES = ("fast", "slow")
TURN_S = 30  # a busy webhook's thread lets the lease go after this long, so other webhooks get a turn
STOP_WITHIN_S = 14  # SIGTERM: in-flight requests may finish this long, to exit within 15 s


class Settings(NamedTuple):
    timeout_s: int
    retry_schedule_s: tuple
    allow_http: bool
    allow_private: bool
    threads: int
    poll_interval_s: float

    @classmethod
    def of(cls, config):
        return cls(config["WEBHOOK_TIMEOUT_S"], config["WEBHOOK_RETRY_SCHEDULE_S"], config["WEBHOOK_ALLOW_HTTP"],
                   config["WEBHOOK_ALLOW_PRIVATE"], config["WEBHOOK_DELIVERY_THREADS"],
                   config["WEBHOOK_POLL_INTERVAL_MS"] / 1000)

    @property
    def lease_s(self):
        """Longer than an attempt may take (its deadline is the timeout, and LEASE_MARGIN_S before
        the lease ends), with the database writes around it and a slow machine's delays: renewed
        before an attempt when less than timeout + margin is left."""
        return 2 * self.timeout_s + 2 * LEASE_MARGIN_S


class Deliverer:
    """One delivery process: a dispatcher that leases webhooks with entries to send, and a thread
    per leased webhook that sends them."""

    def __init__(self, settings):
        self.settings = settings
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.client = Client(settings)
        self.stopping = threading.Event()
        self._busy = {}  # webhook_id -> its thread
        self._lanes = {}  # webhook_id -> FAST or SLOW, while it has a thread
        self._attempt_started = {}  # webhook_id -> when its attempt in flight began (monotonic)
        self._slow = set()  # webhooks whose last attempt took longer than SLOW_AFTER_S
        self._busy_lock = threading.Lock()

    def stop(self, *_signal):
        self.stopping.set()

    def run(self):
        """Deliver until `stop` (SIGTERM, SIGINT); then let requests in flight finish and return."""
        logger.info("webhook delivery %s started: %d threads, timeout %ss, retries after %s s", self.owner,
                    self.settings.threads, self.settings.timeout_s,
                    ",".join(f"{delay:g}" for delay in self.settings.retry_schedule_s))
        self._wait_for_schema()
        while not self.stopping.is_set():
            try:
                self.dispatch()
            except DATABASE_ERRORS as error:
                logger.warning("webhook delivery: database unavailable, trying again: %s", first_line(error))
                discard_connection(all_idle=True)
                self.stopping.wait(1)
            self.stopping.wait(self.settings.poll_interval_s)
        deadline = time.monotonic() + STOP_WITHIN_S
        with self._busy_lock:
            working = list(self._busy.items())
        for _webhook_id, thread in working:
            thread.join(max(0, deadline - time.monotonic()))
        left = [webhook_id for webhook_id, thread in working if thread.is_alive()]
        if left:  # their requests are not acknowledged: another process sends them again
            logger.warning("webhook delivery %s stopping with requests still in flight to %s", self.owner, left)
        logger.info("webhook delivery %s stopped", self.owner)

    def _wait_for_schema(self):
        while not self.stopping.is_set():
            try:
                with connected():
                    ensure_schema()
                return
            except DATABASE_ERRORS as error:
                logger.warning("webhook delivery: database unavailable at start, waiting: %s", first_line(error))
                discard_connection(all_idle=True)
                self.stopping.wait(2)

    def dispatch(self):
        """Lease every due webhook with entries to send, while its lane has a thread free, and start
        its thread. Two lanes of WEBHOOK_DELIVERY_THREADS each: webhooks known to be slow take
        turns in the slow lane, the others in the fast one, and a fast-lane attempt that has taken
        longer than SLOW_AFTER_S moves to the slow lane, freeing its place: however many receivers
        are slow, they never hold the threads an answering webhook needs."""
        with connected():
            head = change_log.head()
            now = time.time()
            with self._busy_lock:
                self._move_slow_attempts()
                busy = set(self._busy)
                in_lane = {lane: sum(1 for held in self._lanes.values() if held == lane) for lane in LANES}
            due = Webhook.due(now, excluded=busy)
            random.shuffle(due)  # with more webhooks due than threads, each gets its turn
            for webhook in due:
                if self.stopping.is_set():
                    return
                lane = SLOW if webhook.webhook_id in self._slow else FAST
                if in_lane[lane] >= self.settings.threads:
                    continue
                if webhook.delivered_through >= head or not self._has_entries(webhook):
                    continue
                if Webhook.take_lease(webhook.webhook_id, self.owner, now, now + self.settings.lease_s):
                    in_lane[lane] += 1
                    thread = threading.Thread(target=self.deliver, args=(webhook.webhook_id,),
                                              name=f"deliver-{webhook.webhook_id}", daemon=True)
                    with self._busy_lock:
                        self._busy[webhook.webhook_id] = thread
                        self._lanes[webhook.webhook_id] = lane
                    thread.start()

    def _move_slow_attempts(self):
        """Move to the slow lane each fast-lane webhook whose attempt in flight is slow (under _busy_lock)."""
        now = time.monotonic()
        for webhook_id, started in self._attempt_started.items():
            if now - started > SLOW_AFTER_S and self._lanes.get(webhook_id) == FAST:
                self._lanes[webhook_id] = SLOW
                self._slow.add(webhook_id)

    def _attempt_ended(self, webhook_id, took_s):
        with self._busy_lock:
            self._attempt_started.pop(webhook_id, None)
            if took_s > SLOW_AFTER_S:
                self._slow.add(webhook_id)
            else:
                self._slow.discard(webhook_id)

    @staticmethod
    def _has_entries(webhook):
        try:
            return bool(change_log.feed(webhook.delivered_through, 1, resource=webhook.resource)[0])
        except Gone:
            return True  # its thread disables it, saying why

    def deliver(self, webhook_id):
        """Send the leased webhook's entries in feed order until it is caught up, an entry fails,
        the lease is lost or the process stops; then release the lease."""
        try:
            self._deliver(webhook_id)
        except DATABASE_ERRORS as error:
            logger.warning("webhook %s: database unavailable, leaving it to the next round: %s", webhook_id,
                           first_line(error))
            discard_connection()
        except Exception:
            logger.exception("webhook %s: unexpected error", webhook_id)
        finally:
            try:
                with connected():
                    Webhook.release_lease(webhook_id, self.owner)
            except DATABASE_ERRORS:  # it expires on its own
                discard_connection()
            with self._busy_lock:
                self._busy.pop(webhook_id, None)
                self._lanes.pop(webhook_id, None)
                self._attempt_started.pop(webhook_id, None)

    def _deliver(self, webhook_id):
        lease_until = 0
        turn_ends = time.monotonic() + TURN_S
        while not self.stopping.is_set() and time.monotonic() < turn_ends:
            with connected():
                webhook = Webhook.get_or_none(Webhook.webhook_id == webhook_id)
                if webhook is None or webhook.status != "enabled" or webhook.lease_owner != self.owner:
                    return
                if webhook.next_attempt_at is not None and webhook.next_attempt_at > time.time():
                    return
                webhook.lease_until = lease_until
                try:
                    rows, _ = change_log.feed(webhook.delivered_through, BATCH_SIZE, resource=webhook.resource)
                except Gone as gone:
                    outcomes.disable(webhook, self.owner, f"Entries after change {webhook.delivered_through}, which "
                                     f"it has yet to receive, were pruned ({gone.message}) Replay from a later change.")
                    return
            if not rows:
                return
            read_at = time.monotonic()
            for row in rows:
                if self.stopping.is_set():
                    return
                if not self._send(webhook, row):
                    return
                webhook.delivered_through, webhook.failed_attempts = row[0], 0
                if time.monotonic() - read_at > BATCH_MAX_AGE_S:
                    break
            lease_until = webhook.lease_until

    def _send(self, webhook, row):
        """One attempt at entry `row`, in its own span when traces are on; whether it was
        acknowledged and recorded."""
        with tracing.delivery_span(webhook.webhook_id, row[0], webhook.failed_attempts + 1) as trace:
            return self._attempt(webhook, row, trace)

    def _attempt(self, webhook, row, trace):
        """The attempt ends LEASE_MARGIN_S before the lease at the latest, and is recorded only while
        the lease is unexpired; it is in the deliveries log whatever its end."""
        change_id = row[0]
        attempt = webhook.failed_attempts + 1
        if not self._hold_lease(webhook):
            return False
        within_s = min(self.settings.timeout_s, webhook.lease_until - LEASE_MARGIN_S - time.time())
        if within_s <= 0:  # this machine was too slow since the lease was renewed: leave it to the next turn
            return False
        message_id, body = message(webhook, row)
        sent_at = datetime.now(timezone.utc)
        headers = {"Content-Type": "application/json", "webhook-id": message_id,
                   "webhook-timestamp": str(int(sent_at.timestamp())),
                   "webhook-signature": signature_header(signing_secrets(webhook, utc_now()), message_id,
                                                         sent_at, body), **trace.headers}
        started = time.perf_counter()
        with self._busy_lock:
            self._attempt_started[webhook.webhook_id] = time.monotonic()
        answer = self.client.post(webhook.url, body, headers, within_s)
        took_s = time.perf_counter() - started
        self._attempt_ended(webhook.webhook_id, took_s)
        duration_ms = round(took_s * 1000)
        error = answer.error
        if error is None and not answer.acknowledged:
            error = f"answered {answer.status_code}"
        trace.answered(answer.status_code, error)
        recorded = outcomes.record(webhook, self.owner, change_id, attempt, answer, error, duration_ms,
                                   self.settings.retry_schedule_s)
        return answer.acknowledged and recorded

    def _hold_lease(self, webhook):
        """Whether this process holds the webhook's lease for longer than a request can take,
        renewing it when less is left (which also finds a lease lost)."""
        now = time.time()
        if getattr(webhook, "lease_until", 0) - now > self.settings.timeout_s + LEASE_MARGIN_S:
            return True
        with connected():
            if not Webhook.renew_lease(webhook.webhook_id, self.owner, now, now + self.settings.lease_s):
                return False
        webhook.lease_until = now + self.settings.lease_s
        return True
