"""Counts kept per key (a reason, a day) in a table `(key, count)`, plus the rows of its `_delta`
table that writes INSERT and no fold has added yet: how reason_totals.py and return_days.py keep
theirs, folded and recounted with the list totals (totals.py), under their lock."""
from ..db import is_postgresql, vacuum_soon


class KeyedTotals:
    def __init__(self, table, key, count):
        self.table, self.key, self.count = table, key, count
        upsert = (f"INSERT INTO {table} ({key}, {count}) SELECT {key}, SUM({count}) FROM {{source}} GROUP BY {key} "
                  f"ON CONFLICT ({key}) DO UPDATE SET {count} = {table}.{count} + excluded.{count}")
        # One statement on PostgreSQL: what it adds is exactly what it deletes.
        self._fold_postgresql = (f"WITH folded AS (DELETE FROM {table}_delta RETURNING {key}, {count}) " +
                                 upsert.format(source="folded"))
        # SQLite reads `ON CONFLICT` after a SELECT as an upsert only when the SELECT has a WHERE clause.
        self._fold_sqlite = upsert.format(source=f"{table}_delta WHERE id <= ?")

    def fold_within(self, db):
        """Within the transaction of a fold, which holds `list_totals` (so no other fold or recount
        runs): add the deltas to their keys' rows and delete them; a key whose count is 0 loses its row."""
        if is_postgresql(db):
            db.execute_sql(self._fold_postgresql)
            vacuum_soon(db, (self.table, f"{self.table}_delta"))
        else:
            # SQLite: the IMMEDIATE transaction holds the database, so nothing comes between these statements.
            (top,) = db.execute_sql(f"SELECT MAX(id) FROM {self.table}_delta").fetchone()
            if top is None:
                return
            db.execute_sql(self._fold_sqlite, (top,))
            db.execute_sql(f"DELETE FROM {self.table}_delta WHERE id <= ?", (top,))
        db.execute_sql(f"DELETE FROM {self.table} WHERE {self.count} = 0")

    def recount_within(self, db, counted):
        """Within `totals.recount`'s snapshot: the rows again from `counted` (a SELECT of key and
        count), and the deltas dropped (a write the counts missed keeps its delta, as in the list
        totals); returns {key: count}."""
        db.execute_sql(f"DELETE FROM {self.table}")
        db.execute_sql(f"INSERT INTO {self.table} ({self.key}, {self.count}) {counted}")
        db.execute_sql(f"DELETE FROM {self.table}_delta")
        rows = db.execute_sql(f"SELECT {self.key}, {self.count} FROM {self.table} ORDER BY {self.key}").fetchall()
        return {(key[0] if len(key) == 1 else tuple(key)): count for *key, count in rows}
