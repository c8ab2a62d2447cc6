"""Queries whose SQL Peewee builds once per database, then only re-runs with new parameters.

Peewee builds a query's SQL anew on every execution, and for the service's one-row reads, list
pages and the statements every write makes, that took longer than the database took to run them
(see docs/benchmarks.md). `first` still
turns the row into a model with the query's own cursor wrapper, joins included: `_get_cursor_wrapper`
is private to Peewee, which requirements.txt pins, and every read of the test suite goes through it.
`rows` returns the driver's tuples, for code that renders them itself.
"""
from weakref import WeakKeyDictionary

from peewee import Value

from .db import database


class PreparedQuery:
    def __init__(self, build, keys=1):
        """`build(db, *keys)` returns the query (a select, insert or update) for database `db`, with
        each of `keys` a placeholder where its value goes."""
        self._build = build
        self._placeholders = tuple(_Placeholder(position) for position in range(keys))
        self._by_database = WeakKeyDictionary()

    def first(self, *keys):
        """The first row for `keys`, as `build(db, *keys).first()` would return it."""
        query, cursor = self._execute(keys, limit_one=True)
        return next(iter(query._get_cursor_wrapper(cursor)), None)

    def rows(self, *keys):
        """Every row for `keys`, as tuples of the driver's values."""
        return self.execute(*keys).fetchall()

    def execute(self, *keys):
        """Run the query with `keys`; returns the driver's cursor."""
        return self._execute(keys, limit_one=False)[1]

    def _execute(self, keys, limit_one):
        db = database.obj
        prepared = self._by_database.get(db)
        if prepared is None:
            prepared = self._by_database[db] = {}
        if limit_one not in prepared:
            prepared[limit_one] = self._prepare(db, limit_one)
        query, sql, params = prepared[limit_one]
        values = [keys[param.position] if isinstance(param, _Placeholder) else param for param in params]
        return query, db.execute_sql(sql, values)

    def _prepare(self, db, limit_one):
        query = self._build(db, *(Value(placeholder, converter=False) for placeholder in self._placeholders))
        if limit_one:
            query = query.limit(1)
        return (query, *query.sql())


class _Placeholder:
    """Stands for a key while the SQL is built."""

    def __init__(self, position):
        self.position = position
