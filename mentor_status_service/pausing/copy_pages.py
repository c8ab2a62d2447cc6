"""A CSV export's pages on PostgreSQL, written by the database: `COPY (page) TO STDOUT WITH CSV`
selects the cells `web/shapes.py` declares as SQL (`Shape.sql_cells`), so that no row is turned into
Python values, formatted and quoted by the worker (docs/benchmarks.md, CSV on PostgreSQL: a
fifth to a seventh of the worker's CPU a row, and 2.5 times the rows a second).

Each row read is `[tie, key, line]`: the raw keys the keyset walk goes on from (the list's tie key,
then its sort key unless the sort is the default one), as COPY writes them, and the row's CSV line,
which COPY ends with a line feed where RFC 4180 (and the `csv` module the other path uses) ends it
with CRLF: `text` writes the lines of a batch with CRLF ends.
"""
import csv
import datetime as dt
import io


def columns(shape, tie, key):
    """What a page selects to be copied: `tie` (a column), `key` (a column, or None for the
    default sort), then the CSV cells of `shape`, each named c0, c1, ... (a page of two halves
    orders its union by the raw keys' names)."""
    cells = (cell.alias(f"c{index}") for index, cell in enumerate(shape.sql_cells()))
    return (tie, *(() if key is None else (key,)), *cells)


def read(prepared, keys, sorted_by_key):
    """The rows `prepared` (a PreparedQuery selecting `columns`) copies for `keys`, as `[tie, key,
    line]` (no key when not `sorted_by_key`), each value as COPY writes it."""
    raw = 2 if sorted_by_key else 1
    return [line.split(b",", raw) if line[:1] != b'"' else _quoted_tie(line, raw) for line in prepared.copy_csv(*keys)]


def _quoted_tie(line, raw):
    """A line whose tie key COPY quoted (a mentor id with a comma, a quote or a line break, which
    only a row written by hand can have): the key read with the `csv` module, then the rest split."""
    tie = next(csv.reader(io.StringIO(line.decode(), newline="")))[0]
    rest = line[len(('"' + tie.replace('"', '""') + '"').encode()) + 1:]
    return [tie.encode(), *rest.split(b",", raw - 1)]


def position(tie_type):
    """How keyset.py reads the keys of a copied row: (tie, sort key or None) as the rows of the
    other path hold them; `tie_type` the tie key's type (str, int)."""
    def decode(row):
        tie = tie_type(row[0].decode())
        if len(row) == 2:
            return (tie,)
        return (tie, dt.datetime.fromisoformat(row[1].decode()) if row[1] else None)

    return decode


def text(rows):
    """The bytes of a batch of copied rows: their lines, each ended with CRLF."""
    lines = b"".join([row[-1] for row in rows])
    if lines.count(b"\n") == len(rows):  # no cell holds a line feed: each one ends a row
        return lines.replace(b"\n", b"\r\n")
    return b"".join([row[-1][:-1] + b"\r\n" for row in rows])
