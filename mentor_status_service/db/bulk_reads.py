"""Reads that walk a whole table (a CSV export): without filling SQLite's page cache, and on
PostgreSQL as CSV that COPY writes (`copy_csv`).

Each pooled SQLite connection keeps up to `cache_size` (32 MB, handle.py) of pages for the hot paths.
An export of 1,000,000 rows reads every page of its table and index once: kept, they grew the
worker's memory by about 40 MiB, for pages no export reads twice. Around each of an export's
batches the connection's cache is made small, which also gives back what it held above that (SQLite
frees those pages at once), and then set back, so the hot paths fill it again from the operating
system's file cache as they need. PostgreSQL keeps its pages in the server: nothing to do there.
"""
from contextlib import contextmanager, suppress

from peewee import __exception_wrapper__

from .faults import DATABASE_ERRORS
from .handle import SQLITE_PRAGMAS, database, is_postgresql

BULK_CACHE_SIZE = -2_000  # KiB, as SQLite reads a negative cache_size: 2 MB


@contextmanager
def small_page_cache():
    """Within: this thread's SQLite connection keeps at most BULK_CACHE_SIZE of pages."""
    if is_postgresql():
        yield
        return
    db = database.obj
    db.execute_sql(f"PRAGMA cache_size = {BULK_CACHE_SIZE}")
    restore = f"PRAGMA cache_size = {SQLITE_PRAGMAS['cache_size']}"
    try:
        yield
    except BaseException:
        with suppress(*DATABASE_ERRORS):  # the read's own error is the one to report
            db.execute_sql(restore)
        raise
    db.execute_sql(restore)


def copy_csv(sql, params, write):
    """PostgreSQL: runs COPY (`sql` with `params`) TO STDOUT as CSV, bounded as every statement of
    the service is (db.bounded), calling `write(line)` with each row's bytes as they arrive (libpq
    hands COPY's data over a row at a time, each ending in a line feed)."""
    db = database.obj
    cursor = db.cursor()
    with __exception_wrapper__:  # psycopg2's errors as Peewee's, as execute_sql raises them
        copy = cursor.mogrify(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params).decode()
        cursor.copy_expert(db.bounded(copy), _Sink(write))


class _Sink:
    """The file psycopg2's copy_expert writes to: `write` alone."""

    def __init__(self, write):
        self.write = write
