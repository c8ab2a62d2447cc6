"""The lists as CSV: which requests want it, the cells of each row, and a body streamed batch by
batch, each batch read on a connection given back to the pool before its rows are sent; and the
list views' one choice between that CSV and a JSON page (`list_or_csv`).

RFC 4180 through the standard library's `csv` (CRLF line ends, fields quoted where they hold a
comma, a quote or a line break); on PostgreSQL the database writes the same bytes (COPY ... CSV,
copy_pages.py), which tests/api/test_csv_copy.py compares. The header and the cells are derived
from the response schemas (web/shapes.py writes each type): the JSON field names in the JSON order; dates as in JSON,
`true`/`false`, empty cells for null, metadata as its compact JSON text; a cell that would start
with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so that a spreadsheet
shows it rather than running it as a formula.
"""
import csv
import io

from flask import request

from ..db import is_postgresql
from ..web.export_streams import streamed_batches
from ..web.links import list_links
from ..web.rendering import list_response
from . import copy_pages
from .rendering import MENTOR_STATUS, PAUSE_RECORD

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
    `cells`, or with `cells` None, of copied rows: copy_pages.py), batch by batch and within the
    limits every export shares (web/export_streams.py)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def text(write, rows):
        write(rows)
        chunk = buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        return chunk

    render = copy_pages.text if cells is None else lambda rows: text(writer.writerows, map(cells, rows))
    return streamed_batches(batches, render, CSV_MIMETYPE, filename, "CSV", head=text(writer.writerow, header))


def list_or_csv(args, shape, read_page, read_all, filename):
    """A list view's response to `args`: when the request wants CSV (wants_csv), every row that
    `read_all(**args)` gives, as `shape` declares its cells, in `filename`; else the JSON page
    `read_page(**args)` gives, rendered as `shape` declares, with its Link header. On PostgreSQL
    the database writes the CSV (`read_all(copied=True, ...)`)."""
    if wants_csv(args):
        if is_postgresql():
            return csv_response(read_all(copied=True, **args), shape.header, None, filename)
        return csv_response(read_all(**args), shape.header, shape.cells, filename)
    rows, total, next_cursor = read_page(**args)
    return list_response(rows, shape.render_row, args, total, next_cursor), list_links(args, total, next_cursor)
