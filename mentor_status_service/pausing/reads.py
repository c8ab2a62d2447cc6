"""What the views read of mentor statuses and pause records: list pages by cursor or page number,
exports a batch at a time, one resource by its public id, a mentor's history. Not found is
NotFound; nothing here writes."""
from ..changes import log as change_log
from ..db import utc_now
from ..db.bulk_reads import small_page_cache
from ..errors import no_mentor, no_pause_record
from . import cursors, lookups, pause_record_lists, queries
from .keyset import ListSort
from .models import PauseRecord


def list_mentor_statuses(limit, page=1, sort=None, cursor=None, **filters):
    """A page of mentors (rows of `lookups.MENTOR_COLUMNS`) in the order `sort` names, the `page`th
    or the one after `cursor`; the total listed; and the cursor of the rows after it, or None."""
    sort = ListSort.parse(sort, queries.MENTOR_DEFAULT_SORT.key)
    bound = cursors.binding("mentor_statuses", str(sort), filters)
    after = None if cursor is None else cursors.decode(cursor, bound, str)
    rows, total, last = queries.mentor_page(limit, utc_now(), sort, page, after, **filters)
    return rows, total, None if last is None else cursors.encode(bound, last)


def list_pause_records(limit, page=1, sort=None, cursor=None, **filters):
    """A page of pause records (rows of `lookups.PAUSE_RECORD_COLUMNS`), as `list_mentor_statuses`."""
    sort = ListSort.parse(sort, pause_record_lists.PAUSE_RECORD_DEFAULT_SORT.key)
    bound = cursors.binding("pause_records", str(sort), filters)
    after = None if cursor is None else cursors.decode(cursor, bound, int)
    rows, total, last = pause_record_lists.pause_record_page(limit, sort, page, after, now=utc_now(), **filters)
    return rows, total, None if last is None else cursors.encode(bound, last)


# An export reads its rows in batches of about EXPORT_BATCH_BYTES (at most EXPORT_BATCH rows), so
# that a worker holds about that much per export whatever the size of the rows (metadata may be 16 KiB).
EXPORT_BATCH = 2000
EXPORT_FIRST_BATCH = 50
EXPORT_BATCH_BYTES = 1024 * 1024


def export_mentor_statuses(sort=None, copied=False, **filters):
    """Every mentor listed, in the order `sort` names, as batches of rows of `lookups.MENTOR_COLUMNS`
    (`copied`, on PostgreSQL: of CSV lines, copy_pages.py): a keyset walk, one statement per batch,
    so that no batch holds a connection or a snapshot while the rows before it are sent. `filters`
    are those of the list; overdue as of now."""
    sort, now = ListSort.parse(sort, queries.MENTOR_DEFAULT_SORT.key), utc_now()
    return _batches(lambda size, after: queries.mentor_page(size, now, sort, after=after, with_total=False,
                                                            copied=copied, **filters))


def export_pause_records(sort=None, now=None, calendar=False, copied=False, **filters):
    """Every pause record listed, as batches of rows, as `export_mentor_statuses`; spans as of `now`
    (default: now); rows of `lookups.CALENDAR_COLUMNS` with `calendar`."""
    sort, now = ListSort.parse(sort, pause_record_lists.PAUSE_RECORD_DEFAULT_SORT.key), now or utc_now()
    return _batches(lambda size, after: pause_record_lists.pause_record_page(
        size, sort, after=after, with_total=False, now=now, calendar=calendar, copied=copied, **filters))


def _batches(read):
    """Batches of `read(size, after)`, each sized from the bytes of the one before."""
    after, size = None, EXPORT_FIRST_BATCH
    while True:
        with small_page_cache():  # SQLite: an export's pages are not kept (db/bulk_reads.py)
            rows, _, after = read(size, after)
        if rows:
            yield rows
        if after is None:
            return
        size = _next_batch_size(rows)
        rows = None  # not held while the next batch is read


# Rows of a batch whose text sizes the next: measuring every value of every row took a fifth of an
# export's CPU (a million mentors: 3 million values looked at), where a sample tells as much.
_SIZED_ROWS = 200


def _next_batch_size(rows):
    """How many rows like `rows` make about EXPORT_BATCH_BYTES (their text, and a little for the
    rest), judged by an even sample of them."""
    sample = rows[::max(1, len(rows) // _SIZED_ROWS)]
    row_bytes = sum(len(value) for row in sample for value in row if isinstance(value, str | bytes)) / len(sample) + 64
    return max(1, min(EXPORT_BATCH, int(EXPORT_BATCH_BYTES / row_bytes)))


def mentor_history(mentor_id, page, limit):
    """A page of the mentor's change entries, newest first, and their total; NotFound if it does not exist."""
    get_mentor_status(mentor_id)
    return change_log.history(mentor_id, page, limit)


def get_mentor_status(mentor_id):
    """The mentor as a row of `lookups.MENTOR_COLUMNS`; NotFound if it does not exist."""
    mentor = None
    if lookups.MENTOR_ID.fullmatch(mentor_id):  # an id that cannot exist is never sent to the database
        mentor = lookups.mentor_row(mentor_id)
    if mentor is None:
        raise no_mentor(mentor_id)
    return mentor


def get_pause_record(pause_record_id):
    """The record as a row of `lookups.PAUSE_RECORD_COLUMNS`; NotFound if it does not exist."""
    number = PauseRecord.number_from_public_id(pause_record_id)
    record = None if number is None else lookups.pause_record_row(number)
    if record is None:
        raise no_pause_record(pause_record_id)
    return record
