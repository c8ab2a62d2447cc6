"""A change entry as its response schema dumps it, built straight from a row."""
from ..web.rendering import api_time, stored_json


def change_entry_row(row):
    """A row of `ChangeEntry.READ_COLUMNS` as ChangeEntrySchema dumps the entry."""
    change_id, at, actor, request_id, resource, resource_id, mentor_id, event, before, after = row
    return {"change_id": change_id, "at": api_time(at), "actor": actor, "request_id": request_id,
            "resource": resource, "id": resource_id, "mentor_id": mentor_id, "event": event,
            "before": stored_json(before), "after": stored_json(after)}
