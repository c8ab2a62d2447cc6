"""PostgreSQL: the statements whose SQL the service builds once (sql_cache.py) prepared on the server,
so that it plans them once per connection rather than at every request.

PostgreSQL plans a statement sent as text each time, and with the indexes `pause_record` keeps
(the sorted lists' and the windows'), planning the read of one mentor took 0.35 ms against 0.04 ms
to run it (docs/benchmarks.md, "statements planned once"). The first time a connection runs a
statement, it sends `PREPARE` under a name made from the statement's SQL, then `EXECUTE name(...)`
from then on: the same round trips, the driver still quoting the values. PostgreSQL still plans a
prepared statement afresh when its plan depends on the values (a page's LIMIT and OFFSET); a list
page whose only values are such is prepared with them written in (sql_cache.py `literal_keys`), and
a connection keeps its `PREPARED_PER_CONNECTION` most recently used statements (each holds its plan,
about 100 KB for a list page): the least recently used is deallocated by the next PREPARE.

A statement PostgreSQL cannot prepare (a parameter whose type nothing around it tells) runs as
text, in a savepoint within a transaction so that the transaction goes on. A pooler in transaction
mode (PgBouncer before 1.21, Heroku's) may run each transaction on another server connection, where
a name prepared before is unknown: the first such miss switches preparing off for the process, and
the request runs again as text (`DB_PREPARED_STATEMENTS=false` spares it that miss).
"""
import functools
import hashlib
import logging
import re
from collections import OrderedDict

import psycopg2.extensions
from peewee import DatabaseError, OperationalError

from .faults import first_line, is_unavailable, sqlstate

logger = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"%[s%]")  # psycopg2's placeholder, and its escaped percent sign
UNKNOWN_NAME, DUPLICATE_NAME = "26000", "42P05"


PREPARED_PER_CONNECTION = 200


class PreparingConnection(psycopg2.extensions.connection):
    """A psycopg2 connection that knows the names of the statements prepared on it, the most
    recently used last."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.prepared = OrderedDict()


class PreparedStatementsLost(OperationalError):
    """A transaction ran a prepared statement on a server connection that never prepared it (a
    pooler's): it is rolled back, and db/views.py runs the request once more, unprepared."""


def statement_name(sql):
    return "s_" + hashlib.blake2b(sql.encode(), digest_size=12).hexdigest()


# Per SQL built once (sql_cache.py), whose str keeps its hash (a hit costs no hashing), or with a
# page's values written in: bounded, as those are many.
@functools.lru_cache(maxsize=1024)
def statement_texts(sql):
    """The name, the PREPARE and the EXECUTE (its values as psycopg2's `%s`) of `sql`."""
    name, count = statement_name(sql), 0

    def number(match):  # psycopg2's `%s` becomes `$1`, `$2`, ...; its `%%` stays for psycopg2
        nonlocal count
        if match.group() == "%%":
            return "%%"
        count += 1
        return f"${count}"

    prepare = f"PREPARE {name} AS {_PLACEHOLDER.sub(number, sql)}"
    return name, prepare, f"EXECUTE {name}({', '.join(['%s'] * count)})" if count else f"EXECUTE {name}"


class PreparesStatements:
    """A PostgreSQL database mixin: `execute_prepared(sql, params)` runs `sql` as `execute_sql`
    would, prepared on the connection at its first run there."""

    def __init__(self, *args, prepare_statements=True, **kwargs):
        super().__init__(*args, connection_factory=PreparingConnection, **kwargs)
        self.prepares = prepare_statements
        self._unpreparable = set()

    def execute_prepared(self, sql, params):
        if not self.prepares or sql in self._unpreparable:
            return self.execute_sql(sql, params)
        name, prepare, execute = statement_texts(sql)
        prepared = self.connection().prepared
        if name in prepared:
            prepared.move_to_end(name)
        else:
            if len(prepared) >= PREPARED_PER_CONNECTION:
                # PREPARE and DEALLOCATE are not undone by a rollback: gone, whatever follows.
                prepare = f"DEALLOCATE {prepared.popitem(last=False)[0]}; {prepare}"
            if not self._prepare(prepare, sql):
                return self.execute_sql(sql, params)
            prepared[name] = None
        try:
            return self.execute_sql(execute, params)
        except DatabaseError as error:
            if sqlstate(error) != UNKNOWN_NAME:
                raise
            self._stop_preparing(error)
            if self.in_transaction():
                raise PreparedStatementsLost(str(error)) from error
            return self.execute_sql(sql, params)

    def _prepare(self, statement, sql):
        """Run `statement`, the PREPARE of `sql`, on this connection; False if PostgreSQL cannot prepare it."""
        within = self.in_transaction()
        try:
            self.execute_sql(f"SAVEPOINT prepare; {statement}; RELEASE SAVEPOINT prepare" if within else statement)
            return True
        except DatabaseError as error:
            if is_unavailable(error):  # the connection or the database, not the statement: the request's error
                raise
            if within:
                self.execute_sql("ROLLBACK TO SAVEPOINT prepare; RELEASE SAVEPOINT prepare")
            if sqlstate(error) == DUPLICATE_NAME:  # a pooler's server connection prepared it for another client
                return True
            if sqlstate(error) == UNKNOWN_NAME:  # the statement deallocated first: another server connection's
                self._stop_preparing(error)
                return False
            logger.info("running a statement unprepared: %s", first_line(error))
            self._unpreparable.add(sql)
            return False

    def _stop_preparing(self, error):
        if self.prepares:
            self.prepares = False
            logger.warning("a prepared statement was unknown to the server connection (a pooler in transaction "
                           "mode?): statements run unprepared from now on in this process; set "
                           "DB_PREPARED_STATEMENTS=false behind such a pooler. %s", first_line(error))
