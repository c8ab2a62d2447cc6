"""The lists as CSV: which requests want it, the cells of each row, and a body streamed batch by
batch, each batch read on a connection given back to the pool before its rows are sent.

RFC 4180 through the standard library's `csv` (CRLF line ends, fields quoted where they hold a
comma, a quote or a line break). The header and the cells are derived from the response schemas
(web/shapes.py writes each type): the JSON field names in the JSON order; dates as in JSON,
`true`/`false`, empty cells for null, metadata as its compact JSON text; a cell that would start
with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so that a spreadsheet
shows it rather than running it as a formula.
"""
import csv
import io
import logging

from flask import request

from ..db import release_connection
from ..web.export_streams import streamed_export
from .rendering import MENTOR_STATUS, PAUSE_RECORD

logger = logging.getLogger(__name__)
CSV_MIMETYPE = "text/csv"
MENTOR_STATUS_FIELDS = MENTOR_STATUS.header
mentor_status_cells = MENTOR_STATUS.cells  # a row of `lookups.MENTOR_COLUMNS`
PAUSE_RECORD_FIELDS = PAUSE_RECORD.header
pause_record_cells = PAUSE_RECORD.cells  # a row of `lookups.PAUSE_RECORD_COLUMNS`
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
