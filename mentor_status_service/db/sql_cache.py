"""Queries whose SQL Peewee builds once per database, then only re-runs with new parameters.

Peewee builds a query's SQL anew on every execution, and for the service's one-row reads, list
pages and the statements every write makes, that took longer than the database took to run them
(see docs/benchmarks.md). `first` still turns the row into a model with the query's own cursor
wrapper, joins included (`_get_cursor_wrapper`: private to Peewee, listed in docs/upgrading.md).
`rows` returns the driver's tuples, for code that renders them itself.
"""
import re
from weakref import WeakKeyDictionary

from peewee import ForeignKeyField, Value

from . import bulk_reads
from .handle import database
from .server_prepared import PreparesStatements

# psycopg2's placeholder and its escaped percent sign, kept by split().
_PLACEHOLDERS = re.compile(r"(%[s%])")
# A literal key's number above this (a deep page's OFFSET) stays a parameter: each such value would be
# a statement of its own, prepared for a run or two.
LITERAL_INT_MAX = 1000


class PreparedQuery:
    def __init__(self, build, keys=1, literal_keys=(), with_parameters=False):
        """`build(db, *keys)` returns the query (a select, insert or update) for database `db`, with
        each of `keys` a placeholder where its value goes. `literal_keys`: the positions of keys
        whose values decide the plan and take few values (a page's LIMIT and OFFSET, a filter by
        one of a few fixed values). Prepared on PostgreSQL (server_prepared.py), a statement whose every
        key is one of these is prepared with its values written in, as its text would send them: with
        them as parameters PostgreSQL plans it afresh at each run (a LIMIT whose value it does not
        know, it guesses a tenth of the rows), and that planning cost more than the run. With
        `with_parameters`, they are written in even when other keys stay parameters: for a statement
        whose plan suits any value of those (the feed's position, along its index), which PostgreSQL
        then plans once for all of them."""
        self._build = build
        self._placeholders = tuple(_Placeholder(position) for position in range(keys))
        self._literal_keys = frozenset(position for position in literal_keys if position < keys)
        self._with_parameters = with_parameters
        self._by_database = WeakKeyDictionary()

    def first(self, *keys):
        """The first row for `keys`, as `build(db, *keys).first()` would return it."""
        query, cursor = self._execute(keys, limit_one=True)
        return next(iter(query._get_cursor_wrapper(cursor)), None)

    def models(self, *keys):
        """Every row for `keys`, as `list(build(db, *keys))` would return them."""
        query, cursor = self._execute(keys, limit_one=False)
        return list(query._get_cursor_wrapper(cursor))

    def rows(self, *keys):
        """Every row for `keys`, as tuples of the driver's values."""
        return self.execute(*keys).fetchall()

    def execute(self, *keys):
        """Run the query with `keys`; returns the driver's cursor."""
        return self._execute(keys, limit_one=False)[1]

    def copy_csv(self, *keys):
        """PostgreSQL: every row for `keys` as COPY writes it in CSV, a list of one bytes a row, each
        ending in a line feed (db/bulk_reads.py `copy_csv`)."""
        _, _, sql, values, _ = self._with_values(keys, limit_one=False)
        lines = []
        bulk_reads.copy_csv(sql, values, lines.append)
        return lines

    def statement(self, *keys):
        """The SQL and parameters for `keys`, unsent (for db/deferred.py)."""
        _, _, sql, values, _ = self._with_values(keys, limit_one=False)
        return sql, values

    def _execute(self, keys, limit_one):
        db, query, sql, values, literal = self._with_values(keys, limit_one)
        if not isinstance(db, PreparesStatements):
            return query, db.execute_sql(sql, values)
        if literal and db.prepares and self._few(keys):
            sql, values = _written_in(db, sql, values, literal)
        return query, db.execute_prepared(sql, values)

    def _few(self, keys):
        """Whether the literal keys' values are among the few worth a statement each."""
        return not any(type(keys[position]) is int and keys[position] > LITERAL_INT_MAX
                       for position in self._literal_keys)

    def _with_values(self, keys, limit_one):
        """The current database; the query, its SQL and its parameters with `keys` in their places;
        and the places among those of the values to write in when prepared (none: all stay parameters)."""
        db = database.obj
        prepared = self._by_database.get(db)
        if prepared is None:
            prepared = self._by_database[db] = {}
        if limit_one not in prepared:
            prepared[limit_one] = self._prepare(db, limit_one)
        query, sql, params, literal = prepared[limit_one]
        return db, query, sql, [keys[param.position] if isinstance(param, _Placeholder) else param
                                for param in params], literal

    def _prepare(self, db, limit_one):
        query = self._build(db, *(Value(placeholder, converter=False) for placeholder in self._placeholders))
        if limit_one:
            query = query.limit(1)
        sql, params = query.sql()
        # Written in: the literal keys' values, and the constants the query holds (Peewee's parameters too).
        parameters = {place for place, param in enumerate(params)
                      if isinstance(param, _Placeholder) and param.position not in self._literal_keys}
        if not self._literal_keys or (parameters and not self._with_parameters):
            return query, sql, params, frozenset()
        return query, sql, params, frozenset(range(len(params))) - parameters


def _written_in(db, sql, values, places):
    """`sql` and `values` with the values at `places` written into the SQL as psycopg2 would send
    them as text (their percent signs escaped again, as psycopg2 takes SQL); the others stay."""
    cursor = db.connection().cursor()
    pieces, kept, place = [], [], 0
    for piece in _PLACEHOLDERS.split(sql):  # text, then a placeholder or an escaped percent sign, then text ...
        if piece == "%s":
            if place in places:
                piece = cursor.mogrify(piece, (values[place],)).decode().replace("%", "%%")
            else:
                kept.append(values[place])
            place += 1
        pieces.append(piece)
    return "".join(pieces), kept


class PreparedByShape:
    """A PreparedQuery for each shape of a query (which filters it has, which columns it sets),
    made when first asked for. `keys`: how many it takes, or a function of the shape that tells."""

    def __init__(self, build, keys, literal_keys=(), with_parameters=False):
        self._build, self._keys, self._prepared = build, keys, {}
        self._literal = {"literal_keys": literal_keys, "with_parameters": with_parameters}

    def get(self, shape):
        if shape not in self._prepared:
            keys = self._keys(shape) if callable(self._keys) else self._keys
            self._prepared[shape] = PreparedQuery(lambda db, *keys: self._build(shape, *keys), keys=keys,
                                                  **self._literal)
        return self._prepared[shape]


class _Placeholder:
    """Stands for a key while the SQL is built."""

    def __init__(self, position):
        self.position = position


# A model's INSERT of a new row, and its UPDATE of the columns a write changed, per model and columns.
_INSERTS = PreparedByShape(lambda shape, *values: shape[0].insert(
    dict(zip((shape[0]._meta.fields[name] for name in shape[1]), values))).returning(shape[0]._meta.primary_key),
    keys=lambda shape: len(shape[1]))
_UPDATES = PreparedByShape(lambda shape, *values: shape[0].update(
    dict(zip((shape[0]._meta.fields[name] for name in shape[1]), values))).where(
    shape[0]._meta.primary_key == values[-1]), keys=lambda shape: len(shape[1]) + 1)


class PreparedSaves:
    """A Peewee model mixin: `save()` as Peewee's (an INSERT of a row without its key, else an UPDATE
    of the columns changed, with `only_save_dirty`), with the SQL of each kind built once. The
    columns stay marked changed: saving the same instance again in a write would send them again,
    to the same values."""

    def save(self, force_insert=False, only=None):
        if force_insert or only is not None:
            return super().save(force_insert=force_insert, only=only)
        key = self._meta.primary_key
        if self.get_id() is None:
            names = tuple(field.name for field in self._meta.sorted_fields if field is not key)
            row = _INSERTS.get((type(self), names)).execute(*self._db_values(names)).fetchone()
            setattr(self, key.name, row[0])
            return 1
        names = tuple(sorted(field.name for field in self.dirty_fields if field is not key))
        if not names:
            return False
        return _UPDATES.get((type(self), names)).execute(*self._db_values(names), self.get_id()).rowcount

    def _db_values(self, names):
        """The values of fields `names` as the database takes them (a foreign key's id, never its row)."""
        fields = [self._meta.fields[name] for name in names]
        return [field.db_value(getattr(self, field.object_id_name if isinstance(field, ForeignKeyField) else
                                       field.name)) for field in fields]
