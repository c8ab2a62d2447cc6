"""How committed entries get their change_id on PostgreSQL: numbered by the readers of the log, in the
order they were written, above every id handed out before (log.py's docstring says why)."""
from ..db import database, is_postgresql
from ..db.server_prepared import PreparesStatements
from .models import ChangeLogHead

# At most this many entries are numbered at once; the rest by the next reader.
NUMBERING_BATCH = 5000


LOCK_HEAD = f"SELECT last_change_id FROM change_log_head WHERE id = {ChangeLogHead.ROW_ID} FOR UPDATE"


# The UPDATE finds each entry by its key, not again by `change_id IS NULL` (only numbering, which holds the
# head's lock, sets it): with that filter, statistics taken when few entries waited (autovacuum's, most of
# the time) made the planner scan the waiting entries once per entry to number, 5,615 x 5,000 in 8.4 s, past
# the statement timeout every time, and the feed answered 503 until someone numbered by hand.
_NUMBER_ENTRIES = f"""WITH unnumbered AS (
    SELECT position, row_number() OVER (ORDER BY position) AS n FROM change_entry
    WHERE change_id IS NULL ORDER BY position LIMIT {NUMBERING_BATCH}),
numbered AS (
    UPDATE change_entry e SET change_id = %s + u.n FROM unnumbered u
    WHERE e.position = u.position RETURNING e.change_id)
UPDATE change_log_head SET last_change_id = %s + (SELECT COUNT(*) FROM unnumbered)
WHERE id = {ChangeLogHead.ROW_ID} AND EXISTS (SELECT 1 FROM numbered)"""


_ANY_UNNUMBERED = "SELECT EXISTS (SELECT 1 FROM change_entry WHERE change_id IS NULL)"


def _any_unnumbered(db):
    """Asked before every read of the log: prepared, so that PostgreSQL plans it once per connection."""
    run = db.execute_prepared if isinstance(db, PreparesStatements) else db.execute_sql
    return run(_ANY_UNNUMBERED, None).fetchone()[0]


def number_committed_entries():
    """On PostgreSQL: give change ids to the committed entries that have none, in the order they
    were written, above every id given before. Only readers take the head row's lock, one at a
    time; the statement that numbers runs after it is taken, so it sees what an earlier reader
    numbered. An entry deleted meanwhile (an erasure) leaves a gap, which the feed allows."""
    db = database.obj
    if not is_postgresql(db) or not _any_unnumbered(db):
        return
    with db.atomic():
        last_change_id = db.execute_sql(LOCK_HEAD).fetchone()[0]
        db.execute_sql(_NUMBER_ENTRIES, (last_change_id, last_change_id))
