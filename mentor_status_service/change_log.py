"""The change log: one entry per resource a write changed, appended in that write's transaction,
and read back as each mentor's history and as the feed of every change.

How the feed stays exactly-once: change ids are handed out by one row, `change_log_head`, which a
write updates as its very last statement and so holds locked until it commits. A later write waits
there, so change ids are given in commit order with no gaps, and a reader can never see an id
while a smaller one is still to commit: `change_id > after` misses nothing. The cost is that
commits queue on that row for the length of a COMMIT; a writer stalled while holding it is ended by
the database's lock and idle-in-transaction timeouts. (On SQLite, write transactions are already
serialised by BEGIN IMMEDIATE.)
"""
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from flask import g, has_request_context

from . import auth
from .db import database
from .errors import Gone, NotFound
from .models import ChangeEntry, ChangeLogHead, MentorStatus, PauseRecord, utc_now
from .rendering import body, mentor_status, pause_record
from .webhook_models import Webhook

_REPRESENTATIONS = {MentorStatus: ("mentor_status", "mentor_id", mentor_status),
                    PauseRecord: ("pause_record", "pause_record_id", pause_record)}
_job_author = ContextVar("job_author", default=None)


def representation(resource):
    """`resource` exactly as the API shows it: the JSON text of its response body."""
    return body(_REPRESENTATIONS[type(resource)][2](resource))[:-1].decode()


class ChangeSet:
    """The resources one write changes. `note` each one before the write changes it; `append`
    then writes one entry for each resource whose representation moved."""

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
        ChangeEntry.delete().where(ChangeEntry.mentor_id == mentor_id).execute()
        self._erased = [_row("pause_record", resource_id, mentor_id, "deleted", None, None)
                        for resource_id in sorted(erased, key=PauseRecord.number_from_public_id)]
        self._erased.append(_row("mentor_status", mentor_id, mentor_id, "deleted", None, None))

    def note(self, *resources):
        for resource in resources:
            if resource is not None:
                self._before.setdefault(_key(resource), representation(resource))

    def append(self, *current, deleted=()):
        """As the write's last statements: an entry for each erased or `deleted` resource, then for
        each of `current` that is new or changed. Nothing when nothing changed."""
        entries = self._erased + [_entry(resource, "deleted", self._before.get(_key(resource)), None)
                                  for resource in deleted]
        for resource in current:
            if resource is None:
                continue
            before, after = self._before.get(_key(resource)), representation(resource)
            if before != after:
                entries.append(_entry(resource, "created" if before is None else "updated", before, after))
        _append(entries)


def history(mentor_id, page, limit):
    """A page of a mentor's entries, both resources, newest first (rows of `ChangeEntry.READ_COLUMNS`),
    and their total."""
    if MentorStatus.row_by_id(mentor_id) is None:
        raise NotFound(f"No mentor status with mentor_id {mentor_id!r}.")
    return ChangeEntry.history_page(mentor_id, page, limit)


def feed(after, limit, **filters):
    """Up to `limit` entries past change `after`, oldest first (rows of `ChangeEntry.READ_COLUMNS`),
    and the `after` to ask for next. 410 when entries past `after` were pruned."""
    entries = ChangeEntry.feed_rows(after, limit, **filters)
    # Read after the entries: a prune that committed meanwhile is seen here, never missed.
    head = ChangeLogHead.read()
    if after < head.pruned_through:
        raise Gone(f"Changes up to {head.pruned_through} were pruned: read the lists afresh, then follow the "
                   f"feed from head.", head=head.last_change_id)
    return entries, entries[-1][0] if entries else after


def count_after(after, resource=None, cap=100_000):
    """How many entries the feed holds past change `after` (of `resource` only, when given),
    counted up to `cap`: what a reader at `after` is behind."""
    query = ChangeEntry.select(ChangeEntry.change_id).where(ChangeEntry.change_id > after)
    if resource is not None:
        query = query.where(ChangeEntry.resource == resource)
    return query.limit(cap).count()


def head():
    """The feed's latest change_id."""
    return ChangeLogHead.read().last_change_id


def prune(older_than_days):
    """Delete every entry up to the newest one older than `older_than_days`, but none that an
    enabled webhook has yet to receive; returns how many. Feed readers still behind that point get
    a 410 from then on."""
    cutoff = utc_now() - timedelta(days=older_than_days)
    with database.atomic():
        through = ChangeEntry.select(ChangeEntry.change_id).where(ChangeEntry.at < cutoff).order_by(
            ChangeEntry.change_id.desc()).limit(1).scalar()
        needed_after = Webhook.lowest_position_of_enabled()
        if needed_after is not None and through is not None:
            through = min(through, needed_after)
        if through is None or through <= 0:
            return 0
        deleted = ChangeEntry.delete().where(ChangeEntry.change_id <= through).execute()
        ChangeLogHead.update(pruned_through=through).where(
            (ChangeLogHead.id == ChangeLogHead.ROW_ID) & (ChangeLogHead.pruned_through < through)).execute()
    return deleted


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


def _row(resource, resource_id, mentor_id, event, before, after):
    return {"resource": resource, "resource_id": resource_id, "mentor_id": mentor_id, "event": event,
            "before_json": before, "after_json": after}


def _append(entries):
    """Number `entries` from the head row, which stays locked until this transaction commits."""
    if not entries:
        return
    last_change_id = ChangeLogHead.hand_out(len(entries))
    actor, request_id = _author()
    at = utc_now()
    for number, entry in enumerate(entries, start=last_change_id - len(entries) + 1):
        entry.update(change_id=number, at=at, actor=actor, request_id=request_id)
    ChangeEntry.append([[entry[name] for name in ChangeEntry.READ_COLUMNS] for entry in entries])
