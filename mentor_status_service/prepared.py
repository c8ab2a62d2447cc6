"""One-row selects by key whose SQL Peewee builds once per database, then only re-runs.

Peewee builds a query's SQL anew on every execution, and for the service's one-row reads that
took about ten times longer than SQLite took to run them (see docs/benchmarks.md). The rows are
still turned into models by the query's own cursor wrapper, joins included: `_get_cursor_wrapper`
is private to Peewee, which requirements.txt pins, and every read of the test suite goes through it.
"""
from weakref import WeakKeyDictionary

from peewee import Value

from .db import database


class PreparedSelect:
    def __init__(self, build):
        """`build(db, key)` returns the select for database `db`, with `key` where the key goes."""
        self._build = build
        self._by_database = WeakKeyDictionary()

    def first(self, key):
        """The first row for `key`, as `build(db, key).first()` would return it."""
        db = database.obj
        if db not in self._by_database:
            self._by_database[db] = self._prepare(db)
        query, sql, params = self._by_database[db]
        cursor = db.execute_sql(sql, [key if param is _KEY else param for param in params])
        return next(iter(query._get_cursor_wrapper(cursor)), None)

    def _prepare(self, db):
        query = self._build(db, Value(_KEY, converter=False)).limit(1)
        return (query, *query.sql())


_KEY = object()  # stands for the key while the SQL is built
