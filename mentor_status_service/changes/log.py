"""The change log: one entry per resource a write changed, appended in that write's transaction,
and read back as each mentor's history and as the feed of every change.

How the feed stays exactly-once without a row that every write shares:

- On PostgreSQL a write INSERTs its entries without a change_id. A reader of the feed (or of a
  history) first numbers every entry that has committed and has none yet, in the order the
  entries were written (`position`), from `change_log_head`, which only numbering locks. Ids are
  given only to committed entries and always above every id given before, so an entry never
  appears at or below a `next_after` already handed out, and `change_id > after` misses nothing.
  A write still open when a reader numbers is numbered by a later reader, after it commits: a
  stalled write delays only its own entries, never loses or reorders one. For one mentor, writes
  take turns on its row, so a later write's entries are written after an earlier one committed:
  their ids follow commit order.
- On SQLite, write transactions are serialised by BEGIN IMMEDIATE, so a write numbers its own
  entries from `change_log_head` as it appends them.
"""
import uuid
from contextlib import contextmanager
from contextvars import ContextVar

from flask import g, has_request_context
from peewee import SQL, fn

from ..db import PreparedByShape, PreparedQuery, database, is_postgresql, send, utc_now
from ..errors import Gone
from ..web import auth
from ..web.rendering import body
from .models import ChangeEntry, ChangeLogHead
from .numbering import LOCK_HEAD, number_committed_entries

# The wings whose resources the log records tell it how (register_resource): the log imports none.
_REPRESENTATIONS = {}  # model -> (resource name, id attribute, render)
_job_author = ContextVar("job_author", default=None)
# A feed page stops before its body would pass this: 1,000 entries of large metadata would be ~33 MB.
FEED_PAGE_MAX_BYTES = 1024 * 1024
# Generous for what an entry holds besides before and after (ids, names, time, keys) and the envelope.
ENTRY_OVERHEAD_BYTES = 512
ENVELOPE_BYTES = 64


def register_resource(model, name, id_attribute, render):
    """Record changes of `model` instances as resource `name`, identified by `id_attribute`, shown as
    `render(instance)` gives the document (the API's representation)."""
    _REPRESENTATIONS[model] = (name, id_attribute, render)


def representation(resource):
    """`resource` exactly as the API shows it: the JSON text of its response body."""
    return body(_REPRESENTATIONS[type(resource)][2](resource))[:-1].decode()


class WriteRecord:
    """What one write changes, for the change log. `note` each resource before the write changes
    it; `changed` tells whether its representation moved since; `append` then writes one entry for
    each resource that did."""

    def __init__(self):
        self._before = {}  # (model, id) -> its representation when noted
        self._erased = []  # entries that say an erased resource is gone

    def erase_mentor(self, mentor_id, pause_record_ids):
        """Deleting a mentor: remove every entry about it now, and have `append` say that it and each
        of its pause records the feed ever showed (or that `pause_record_ids` names) is gone, with
        no data, so that a reader who was behind still learns it."""
        shown = ChangeEntry.select(ChangeEntry.resource_id).where(
            (ChangeEntry.mentor_id == mentor_id) & (ChangeEntry.resource == "pause_record")).distinct()
        erased = {resource_id for (resource_id,) in shown.tuples()} | set(pause_record_ids)
        if is_postgresql():
            # A reader numbering entries holds the head, then locks entries; an erasure that took
            # entries first and then met that reader's locks could deadlock with it. Erasures are rare.
            database.execute_sql(LOCK_HEAD)
        ChangeEntry.delete().where(ChangeEntry.mentor_id == mentor_id).execute()
        self._erased = [_row("pause_record", resource_id, mentor_id, "deleted", None, None)
                        for resource_id in sorted(erased, key=_sequence_order)]
        self._erased.append(_row("mentor_status", mentor_id, mentor_id, "deleted", None, None))

    def note(self, *resources):
        for resource in resources:
            if resource is not None:
                self._before.setdefault(_key(resource), representation(resource))

    def changed(self, resource):
        """Whether `resource` (noted) now shows anything else than when it was noted."""
        return self._before.get(_key(resource)) != representation(resource)

    def append(self, *current, deleted=()):
        """As the write's last statements: an entry for each erased or `deleted` resource, then for
        each of `current` that is new or changed. Nothing when nothing changed."""
        append_entries(self.entries(*current, deleted=deleted))

    def entries(self, *current, deleted=()):
        """The entries `append` writes, unwritten (for a job that writes many writes' entries at once)."""
        entries = self._erased + [_entry(resource, "deleted", self._before.get(_key(resource)), None)
                                  for resource in deleted]
        for resource in current:
            if resource is None:
                continue
            before, after = self._before.get(_key(resource)), representation(resource)
            if before != after:
                entries.append(_entry(resource, "created" if before is None else "updated", before, after))
        return entries


def append_entries(entries):
    """Within the write's transaction: `entries` (of `WriteRecord.entries`, `notice_entry`), a few
    statements at a time; an entry that names its request_id keeps it."""
    for start in range(0, len(entries), APPEND_BATCH):
        _append(entries[start:start + APPEND_BATCH])


# At most this many entries go in one INSERT (a bulk load writes thousands): within SQLite's limit
# of 32,766 parameters, and few statement shapes to prepare.
APPEND_BATCH = 1000


def append_notice(resource, event):
    """Within the write's transaction: a notice (`event`, one of ChangeEntry.EVENTS beyond the three
    changes) about `resource`, an entry that changes nothing: its before and after are both the
    resource as it is."""
    _append([notice_entry(resource, event)])


def notice_entry(resource, event):
    """The entry `append_notice` writes, unwritten."""
    shown = representation(resource)
    return _entry(resource, event, shown, shown)


ENTRY_COLUMNS = tuple(getattr(ChangeEntry, name) for name in ChangeEntry.READ_COLUMNS)


def _of_mentor(mentor_id, columns):
    return ChangeEntry.select(*columns).where(
        (ChangeEntry.mentor_id == mentor_id) & ChangeEntry.change_id.is_null(False)).order_by(
        ChangeEntry.change_id.desc())


def _history_total(db, mentor_id):
    return _of_mentor(mentor_id, (fn.COUNT(SQL("*")),)).order_by()


_HISTORY_TOTAL = PreparedQuery(_history_total)
_HISTORY_PAGE = PreparedQuery(lambda db, mentor_id, limit, offset: _of_mentor(
    mentor_id, (*ENTRY_COLUMNS, _history_total(db, mentor_id).alias("total"))).limit(limit).offset(offset), keys=3)


def history(mentor_id, page, limit):
    """A page of a mentor's entries, both resources, newest first (rows of `ChangeEntry.READ_COLUMNS`),
    and their total, which the page's statement reads as its last column (one round trip, one snapshot)."""
    number_committed_entries()
    rows = _HISTORY_PAGE.rows(mentor_id, limit, (page - 1) * limit)
    if not rows:  # past the end, or no entry: the total alone (a mentor's entries bound the skip)
        return [], _HISTORY_TOTAL.rows(mentor_id)[0][0]
    return [row[:-1] for row in rows], rows[0][-1]


def _feed(after, resource, mentor_id):
    query = ChangeEntry.select(*ENTRY_COLUMNS).where(ChangeEntry.change_id > after).order_by(ChangeEntry.change_id)
    if resource is not None:
        query = query.where(ChangeEntry.resource == resource)
    if mentor_id is not None:
        query = query.where(ChangeEntry.mentor_id == mentor_id)
    return query


# The resource (one of two) and the LIMIT written in: the feed's plan, along its index from the
# position, suits every position, so PostgreSQL plans it once (sql_cache.py).
_FEED = PreparedByShape(lambda shape, after, resource, mentor_id, limit: _feed(
    after, resource if shape[0] else None, mentor_id if shape[1] else None).limit(limit), keys=4,
    literal_keys=(1, 3), with_parameters=True)
_HEAD = PreparedQuery(lambda db, row_id: ChangeLogHead.select().where(ChangeLogHead.id == row_id))


def feed_rows(after, limit, resource=None, mentor_id=None):
    """Up to `limit` entries past change `after`, oldest first, as rows of `ChangeEntry.READ_COLUMNS`."""
    return _FEED.get((resource is not None, mentor_id is not None)).rows(after, resource, mentor_id, limit)


def feed(after, limit, **filters):
    """Up to `limit` entries past change `after`, oldest first (rows of `ChangeEntry.READ_COLUMNS`),
    and the `after` to ask for next. 410 when entries past `after` were pruned."""
    number_committed_entries()
    entries = feed_rows(after, limit, **filters)
    # Read after the entries: a prune that committed meanwhile is seen here, never missed.
    head = _HEAD.first(ChangeLogHead.ROW_ID)
    if after < head.pruned_through:
        raise Gone(f"Changes up to {head.pruned_through} were pruned: read the lists afresh, then follow the "
                   f"feed from head.", head=head.last_change_id)
    entries = within_page_size(entries)
    return entries, entries[-1][0] if entries else after


def hold_pruned_point():
    """Within a transaction: keep the pruned point where it is until the transaction ends (a
    prune waits), for a write that moves a webhook's position after checking it."""
    if is_postgresql():
        database.execute_sql(f"SELECT id FROM change_log_head WHERE id = {ChangeLogHead.ROW_ID} FOR SHARE")


def within_page_size(rows, max_bytes=FEED_PAGE_MAX_BYTES):
    """The first `rows` (of `ChangeEntry.READ_COLUMNS`) whose response body stays under `max_bytes`,
    by the size of their before and after JSON; always the first row, so that a reader moves on."""
    size = ENVELOPE_BYTES
    for count, row in enumerate(rows):
        size += ENTRY_OVERHEAD_BYTES + _utf8_length(row[-2]) + _utf8_length(row[-1])
        if size > max_bytes and count > 0:
            return rows[:count]
    return rows


def _utf8_length(text):
    if text is None:
        return 4  # null
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def count_after(after, resource=None, cap=100_000):
    """How many entries the feed holds past change `after` (of `resource` only, when given),
    counted up to `cap`: what a reader at `after` is behind."""
    query = ChangeEntry.select(ChangeEntry.change_id).where(ChangeEntry.change_id > after)
    if resource is not None:
        query = query.where(ChangeEntry.resource == resource)
    return query.limit(cap).count()


def head():
    """The feed's latest change_id, once every committed entry is numbered: no entry the feed
    returns later has an id at or below it."""
    number_committed_entries()
    return _HEAD.first(ChangeLogHead.ROW_ID).last_change_id


@contextmanager
def acting_as(actor):
    """Outside a request (a CLI job): the actor of the changes made within, with one id for all."""
    token = _job_author.set((actor, uuid.uuid4().hex))
    try:
        yield
    finally:
        _job_author.reset(token)


def _author():
    """(actor, request id) of the changes being made: the request's, else the job's."""
    if has_request_context():
        return auth.actor(), g.get("request_id") or uuid.uuid4().hex
    return _job_author.get() or (auth.ANONYMOUS, uuid.uuid4().hex)


def _key(resource):
    resource_type = type(resource)
    return resource_type, getattr(resource, _REPRESENTATIONS[resource_type][1])


def _entry(resource, event, before, after):
    resource_name, id_field, _ = _REPRESENTATIONS[type(resource)]
    return _row(resource_name, getattr(resource, id_field), resource.mentor_id, event, before, after)


def _sequence_order(public_id):
    """Ids that end in a zero-padded sequence number (`pause-rec-0019`, `pause-rec-10000`) in its order."""
    return len(public_id), public_id


def _row(resource, resource_id, mentor_id, event, before, after):
    return {"resource": resource, "resource_id": resource_id, "mentor_id": mentor_id, "event": event,
            "before_json": before, "after_json": after}


_HAND_OUT_CHANGE_IDS = PreparedQuery(lambda db, count, row_id: ChangeLogHead.update(
    last_change_id=ChangeLogHead.last_change_id + count).where(ChangeLogHead.id == row_id).returning(
    ChangeLogHead.last_change_id), keys=2)
_NUMBERED_COLUMNS = ChangeEntry.READ_COLUMNS
_UNNUMBERED_COLUMNS = ChangeEntry.READ_COLUMNS[1:]
_INSERT_ENTRIES = PreparedByShape(lambda shape, *values: ChangeEntry.insert_many(
    [values[start:start + len(shape[1])] for start in range(0, len(values), len(shape[1]))],
    fields=[getattr(ChangeEntry, name) for name in shape[1]]), keys=lambda shape: shape[0] * len(shape[1]))


def _append(entries):
    """INSERT `entries` in one statement: on PostgreSQL without change ids, which readers give
    them once they have committed; on SQLite numbered from the head row."""
    if not entries:
        return
    actor, request_id = _author()
    at = utc_now()
    for entry in entries:
        entry.update(at=at, actor=actor, request_id=entry.get("request_id") or request_id)
    columns = _UNNUMBERED_COLUMNS
    if not is_postgresql():
        columns = _NUMBERED_COLUMNS
        last_change_id = _HAND_OUT_CHANGE_IDS.execute(len(entries), ChangeLogHead.ROW_ID).fetchone()[0]
        for number, entry in enumerate(entries, start=last_change_id - len(entries) + 1):
            entry["change_id"] = number
    # Its result is not read: a statement the write deferred (its list-totals delta) may travel with it.
    values = [entry[name] for entry in entries for name in columns]
    send(database.obj, *_INSERT_ENTRIES.get((len(entries), columns)).statement(*values))


