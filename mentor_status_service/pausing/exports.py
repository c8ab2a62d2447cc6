"""The lists as CSV: which requests want it, the cells of each row, and a body streamed batch by
batch, each batch read on a connection given back to the pool before its rows are sent.

RFC 4180 through the standard library's `csv` (CRLF line ends, fields quoted where they hold a
comma, a quote or a line break); a header row of the JSON field names in the JSON order; dates as
in JSON, `true`/`false`, empty cells for null, metadata as its compact JSON text. A cell that would
start with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so that a
spreadsheet shows it rather than running it as a formula.
"""
import csv
import datetime as dt
import io
import logging

from flask import request

from ..db import release_connection
from ..web.export_streams import streamed_export
from ..web.rendering import api_time
from .models import PAUSE_RECORD_ID_PREFIX
from .schemas import MentorStatusSchema, PauseRecordSchema

logger = logging.getLogger(__name__)
CSV_MIMETYPE = "text/csv"
MENTOR_STATUS_FIELDS = tuple(MentorStatusSchema().fields)
PAUSE_RECORD_FIELDS = tuple(PauseRecordSchema().fields)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NOT_PAGED = ("page", "limit", "cursor")


def csv_content(fields):
    """What the 200 of a list documents beside its JSON: CSV with a header row of `fields`."""
    return {CSV_MIMETYPE: {"schema": {"type": "string", "description": "RFC 4180 CSV with a header row"},
                           "example": ",".join(fields) + "\r\n"}}


def wants_csv(args):
    """Whether a list request asks for CSV: `format=csv`, or no `format` and an Accept header that
    prefers text/csv to JSON. Removes `format` from `args`, and with CSV the paging too."""
    chosen = args.pop("format", None)
    csv_wanted = chosen == "csv" or chosen is None and request.accept_mimetypes.best_match(
        ("application/json", CSV_MIMETYPE)) == CSV_MIMETYPE
    if csv_wanted:
        for name in NOT_PAGED:
            args.pop(name, None)
    return csv_wanted


def safe(text):
    """Text as a cell no spreadsheet runs as a formula."""
    return f"'{text}" if text and text.startswith(_FORMULA_STARTS) else text


def time_cell(value):
    """A stored timestamp as JSON writes it (rendering.api_time), "" for null; a datetime stored to
    the second, the common case, on the short path: an export calls this four times a row."""
    if value.__class__ is dt.datetime and not value.microsecond:
        return value.isoformat() + "Z"
    return "" if value is None else api_time(value)


def mentor_status_cells(row):
    """A row of `queries.MENTOR_COLUMNS` as the cells of MENTOR_STATUS_FIELDS."""
    mentor_id, base_status, metadata_json, created_at, last_updated, pause_id, start, expected, reason = row
    if pause_id is None:
        status, paused, start, expected, reason = base_status, "false", "", "", ""
    else:
        status, paused = "paused", "true"
        start, expected, reason = time_cell(start), time_cell(expected), safe(reason or "")
    return (safe(mentor_id), status, paused, start, expected, reason, safe(metadata_json), time_cell(created_at),
            time_cell(last_updated))


def pause_record_cells(row):
    """A row of `queries.PAUSE_RECORD_COLUMNS` as the cells of PAUSE_RECORD_FIELDS."""
    number, mentor_id, start, expected, end, reason, created_at, state = row
    return (f"{PAUSE_RECORD_ID_PREFIX}{number:04d}", safe(mentor_id), time_cell(start), time_cell(expected),
            time_cell(end), "true" if state == "active" else "false", state, safe(reason or ""), time_cell(created_at))


def csv_response(batches, header, cells, filename):
    """A streamed CSV response of `batches` (an iterator of lists of rows, each turned into cells by
    `cells`), within the limits every export shares (export_streams). The first batch is read in
    the view, so that a database fault is still the view's error (a 503); each later one is read
    when the client has taken the one before, and its connection goes back to the pool before its
    rows are sent. A client that goes away closes the generator, which reads no more."""
    def open_body():
        return _csv_chunks(next(batches, []), batches, header, cells, filename)

    return streamed_export(open_body, CSV_MIMETYPE, filename)


def _csv_chunks(first, batches, header, cells, filename):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    rows, first = first, None
    try:
        while True:
            writer.writerows(map(cells, rows))
            chunk = buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            rows = None  # not held while the chunk is sent
            yield chunk
            try:
                rows = next(batches)
            except StopIteration:
                return
            finally:
                release_connection()
    except Exception:
        # The status line is sent: the client can only learn of the fault from a body cut short.
        logger.exception("CSV export of %s stopped", filename)
        raise
    finally:
        batches.close()
