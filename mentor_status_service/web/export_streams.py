"""What every streamed export shares (the CSV lists, and any other export that streams), so that
clients that request one and stop reading cannot stop the instance:

- at most EXPORTS_PER_WORKER exports stream at once in a worker process (a bounded semaphore,
  taken without waiting); beyond, a 503 with Retry-After before anything is read, and the slot is
  given back when the response is closed (read to its end, abandoned, or its client gone);
- the body goes out in pieces of at most PIECE_BYTES, each made from a batch of rows sized by
  bytes (pausing/rules.py `_batches`), so a worker holds about one batch per export whatever the rows' size;
- a response none of whose bytes can be sent for SEND_TIMEOUT_S is abandoned: the gunicorn worker
  puts that send timeout on the response's socket (server/worker.py HeadDeadlineWorker).
"""
import threading

from flask import current_app, g, request, stream_with_context

from ..errors import DomainError

PIECE_BYTES = 64 * 1024
RETRY_AFTER_S = 5


class ExportsBusy(DomainError):
    code = 503

    def __init__(self, limit):
        super().__init__(f"{limit} exports are streaming from this server process already; try again shortly.")
        self.headers = {"Retry-After": str(RETRY_AFTER_S)}


def init_app(app):
    app.extensions["export_slots"] = threading.BoundedSemaphore(app.config["EXPORTS_PER_WORKER"])


def streamed_export(open_body, mimetype, filename):
    """A streamed response of the bytes that `open_body()` yields, within an export slot; ExportsBusy
    when none is free. `open_body` runs here, in the view, so that what it reads first (a database
    fault, say) is still the view's error. A HEAD, which sends no body, takes no slot."""
    release = _take_slot() if request.method != "HEAD" else _nothing
    try:
        body = open_body()
    except BaseException:
        release()
        raise
    response = current_app.response_class(stream_with_context(_pieces(body, release)), mimetype=mimetype)
    response.call_on_close(release)  # a client gone, an abandoned send: closed all the same
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _take_slot():
    """A free slot of this worker process, and the function that gives it back (once, whoever calls first)."""
    slots = current_app.extensions["export_slots"]
    if not slots.acquire(blocking=False):
        g.export_slots_full = True  # a 503 that is no database outage (web/metrics.py)
        raise ExportsBusy(current_app.config["EXPORTS_PER_WORKER"])
    released = threading.Lock()

    def release():
        if released.acquire(blocking=False):
            slots.release()

    return release


def _nothing():
    pass


def _pieces(chunks, release):
    """`chunks` (bytes) cut into pieces of at most PIECE_BYTES; the slot given back at the end."""
    try:
        for chunk in chunks:
            if len(chunk) <= PIECE_BYTES:
                yield chunk
                continue
            for start in range(0, len(chunk), PIECE_BYTES):
                yield chunk[start:start + PIECE_BYTES]
    finally:
        chunks.close()
        release()
