"""Statements a write holds back to send in the query string of its next one, on PostgreSQL: one
round trip fewer per write (docs/benchmarks.md, the hot paths). A write's list-totals delta, whose
id only decides whether to fold, travels with its change entries' INSERT, whose result nobody reads.

Only `send` carries a held statement, after its own (the query string's rows are its last
statement's); any other statement, and COMMIT, first sends what is held on its own, so what a
transaction reads or commits always includes what it wrote. On SQLite, and outside a
transaction, `defer` runs its statement at once."""


def defer(db, sql, params, then):
    """Run `sql` on `db` within this transaction, before its next statement reads anything or it
    commits; `then(row)` gets its first row."""
    if isinstance(db, HoldsStatements) and db.in_transaction():
        db.hold(sql, params, then)
    else:
        then(db.execute_sql(sql, params).fetchone())


def send(db, sql, params):
    """Run `sql` on `db`, its result not wanted, with a statement `defer` held after it in the same
    query string."""
    if isinstance(db, HoldsStatements):
        db.send(sql, params)
    else:
        db.execute_sql(sql, params)


class HoldsStatements:
    """A database mixin: at most one held statement per thread (holding another sends the first),
    kept in `self._thread` (a threading.local). The database's own `execute_sql` and `commit` call
    `send_held` first, its `begin` and `rollback` call `drop_held`."""

    def hold(self, sql, params, then):
        self.send_held()
        self._thread.held = (sql, list(params), then)

    def send(self, sql, params):
        held = self._take_held()
        if held is None:
            self.execute_sql(sql, params)
            return
        held_sql, held_params, then = held
        then(self.execute_sql(f"{sql}; {held_sql}", [*params, *held_params]).fetchone())

    def send_held(self):
        held = self._take_held()
        if held is not None:
            held_sql, held_params, then = held
            then(self.execute_sql(held_sql, held_params).fetchone())

    def drop_held(self):
        self._thread.held = None

    def _take_held(self):
        held = getattr(self._thread, "held", None)
        self._thread.held = None
        return held
