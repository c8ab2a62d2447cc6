"""What each way of writing a CSV export costs the process that reads the rows, per row:
`python -m bench.csv_paths --sqlite PATH --pg-url URL` (databases bench/seed.py filled).

The mentors in mentor_id order, read in batches of 2,000 straight from the driver, three ways:
the list's rows turned into cells by the generated `cells` and written by `csv.writer` (the
worker's path); the cells computed in SQL and written by `csv.writer`; and, on PostgreSQL, COPY's
CSV lines joined. Prints the CPU time of this process per row, three runs each.
"""
import argparse
import csv
import io
import operator
import sqlite3
import time

import psycopg2

from mentor_status_service.pausing import exports

_FROM = ("FROM mentor_status m LEFT JOIN pause_record p ON p.mentor_id = m.mentor_id AND p.state = 'active' "
         "WHERE m.mentor_id > {param} ORDER BY m.mentor_id LIMIT 2000")
_ROWS = ("SELECT m.mentor_id, m.base_status, m.metadata, m.created_at, m.last_updated, p.id, p.start_date, "
         "p.expected_return_date, p.reason ")


def _cells(date, control):
    def safe(value):
        return (f"NULLIF(CASE WHEN substr({value}, 1, 1) IN ('=', '+', '-', '@', {control}(9), {control}(13)) "
                f"THEN '''' || {value} ELSE {value} END, '')")

    status = "CASE WHEN p.id IS NOT NULL THEN 'paused' ELSE m.base_status END"
    return (f"{safe('m.mentor_id')}, {safe(status)}, CASE WHEN p.id IS NOT NULL THEN 'true' ELSE 'false' END, "
            f"{date('p.start_date')}, {date('p.expected_return_date')}, {safe('p.reason')}, {safe('m.metadata')}, "
            f"{date('m.created_at')}, {date('m.last_updated')} ")


def _walk(fetch, write):
    """CPU seconds per row of reading every mentor by `fetch(after)` and writing each batch with `write`."""
    buffer, after, rows = io.StringIO(), "", 0
    writer = csv.writer(buffer)
    started = time.process_time()
    while batch := fetch(after):
        write(writer, batch)
        rows, after = rows + len(batch), batch[-1][0]
        buffer.seek(0)
        buffer.truncate()
    return (time.process_time() - started) / rows


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.csv_paths", description=__doc__)
    parser.add_argument("--sqlite", required=True)
    parser.add_argument("--pg-url", required=True)
    args = parser.parse_args(argv)
    sqlite = sqlite3.connect(args.sqlite)
    postgresql = psycopg2.connect(args.pg_url)
    postgresql.autocommit = True
    cursor = postgresql.cursor()
    to_char = "to_char({}, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')".format
    pg_cells = "SELECT m.mentor_id, " + _cells(to_char, "chr") + _FROM.format(param="%s")
    sqlite_cells = "SELECT m.mentor_id, " + _cells("substr({0}, 1, 10) || 'T' || substr({0}, 12, 8) || 'Z'".format,
                                                   "char") + _FROM.format(param="?")
    lines = []

    def copy(after):
        lines.clear()
        sink = type("Sink", (), {"write": staticmethod(lines.append)})
        cursor.copy_expert(cursor.mogrify(f"COPY ({pg_cells}) TO STDOUT WITH (FORMAT csv)", (after,)).decode(), sink)
        rows = [line.split(b",", 1) for line in lines]  # the tie key (seeded ids need no quotes), the line
        if rows:
            rows[-1][0] = rows[-1][0].decode()
        return rows

    def pg(sql):
        return lambda after: cursor.execute(sql, (after,)) or cursor.fetchall()

    def lite(sql):
        return lambda after: sqlite.execute(sql, (after,)).fetchall()

    cells = lambda writer, rows: writer.writerows(map(exports.mentor_status_cells, rows))  # noqa: E731
    sql_cells = lambda writer, rows: writer.writerows(map(operator.itemgetter(slice(1, None)), rows))  # noqa: E731
    ways = {
        "postgresql rows + cells + csv": (pg(_ROWS + _FROM.format(param="%s")), cells),
        "postgresql cells in SQL + csv": (pg(pg_cells), sql_cells),
        "postgresql COPY": (copy, lambda writer, rows: b"".join(row[1] for row in rows).replace(b"\n", b"\r\n")),
        "sqlite rows + cells + csv": (lite(_ROWS + _FROM.format(param="?")), cells),
        "sqlite cells in SQL + csv": (lite(sqlite_cells), sql_cells),
    }
    for name, (fetch, write) in ways.items():
        print(f"{name}: " + ", ".join(f"{_walk(fetch, write) * 1e6:.2f}" for _ in range(3)) + " µs of CPU per row")


if __name__ == "__main__":
    main()
