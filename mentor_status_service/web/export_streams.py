"""What every streamed export shares (the CSV lists, and any other export that streams), so that
clients that request one and stop reading cannot stop the instance:

- at most EXPORTS_PER_WORKER exports stream at once in a worker process (a bounded semaphore,
  taken without waiting); beyond, a 503 with Retry-After before anything is read, and the slot is
  given back when the response is closed (read to its end, abandoned, or its client gone);
- the body goes out in pieces of at most PIECE_BYTES, each made from a batch of rows sized by
  bytes (pausing/reads.py `_batches`), so a worker holds about one batch per export whatever the rows' size;
- each batch is read when the client has taken the one before, its connection given back to the
  pool before its rows are sent (`streamed_batches`, for every format);
- a response none of whose bytes can be sent for SEND_TIMEOUT_S is abandoned: the gunicorn worker
  puts that send timeout on the response's socket (server/worker.py DeadlineWorker).
"""
import logging
import threading

from flask import current_app, g, request, stream_with_context

from ..db import release_connection
from ..errors import DomainError

logger = logging.getLogger(__name__)
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


def streamed_batches(batches, render, mimetype, filename, label, head=b"", tail=b""):
    """A streamed export of `batches` (an iterator of lists of rows): `head`, each batch as the bytes
    `render(rows)` gives, then `tail`. The first batch is read here, in the view, so that a database
    fault is still the view's error (a 503); each later one is read when the client has taken the
    one before, and its connection goes back to the pool before its rows are sent. A client that
    goes away closes the generator, which reads no more. `label` names the format in the log line
    of an export that fails once its body has begun."""
    def open_body():
        return _batch_chunks(next(batches, []), batches, render, head, tail, f"{label} export of {filename}")

    return streamed_export(open_body, mimetype, filename)


def _batch_chunks(first, batches, render, head, tail, what):
    rows, chunk, first = first, head, None  # the first batch held by `rows` alone
    try:
        while True:
            chunk += render(rows)
            rows = None  # not held while the chunk is sent
            yield chunk
            try:
                rows = next(batches)
            except StopIteration:
                break
            finally:
                release_connection()
            chunk = b""
        if tail:
            yield tail
    except Exception:
        # The status line is sent: the client can only learn of the fault from a body cut short.
        logger.exception("%s stopped", what)
        raise
    finally:
        batches.close()


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
