"""Pruning the change log: entries older than a number of days go, but none that a subscriber (the
webhooks) has yet to receive; feed readers behind the pruned point get a 410."""
from datetime import timedelta

from ..db import database, is_postgresql, utc_now
from .models import ChangeEntry, ChangeLogHead
from .numbering import LOCK_HEAD, number_committed_entries

_SUBSCRIBERS = {}  # name -> a function giving the lowest change_id it has yet to receive past, or None


def keep_entries_for(name, lowest_position):
    """Have `prune` keep every entry after `lowest_position()` (None: nothing needed), for subscriber `name`."""
    _SUBSCRIBERS[name] = lowest_position


def prune(older_than_days):
    """Delete every entry up to the newest one older than `older_than_days`, but none that an
    enabled webhook has yet to receive; returns how many. Feed readers still behind that point get
    a 410 from then on."""
    cutoff = utc_now() - timedelta(days=older_than_days)
    number_committed_entries()
    with database.atomic():
        if is_postgresql():
            # Held until the prune commits: a replay or re-enable checking the pruned point
            # (hold_pruned_point) waits for it, and one that came first is seen below.
            database.execute_sql(LOCK_HEAD)
        through = ChangeEntry.select(ChangeEntry.change_id).where(
            (ChangeEntry.at < cutoff) & ChangeEntry.change_id.is_null(False)).order_by(
            ChangeEntry.change_id.desc()).limit(1).scalar()
        for lowest_position in _SUBSCRIBERS.values():
            needed_after = lowest_position()
            if needed_after is not None and through is not None:
                through = min(through, needed_after)
        if through is None or through <= 0:
            return 0
        deleted = ChangeEntry.delete().where(ChangeEntry.change_id <= through).execute()
        ChangeLogHead.update(pruned_through=through).where(
            (ChangeLogHead.id == ChangeLogHead.ROW_ID) & (ChangeLogHead.pruned_through < through)).execute()
    return deleted
