"""The change log's tables: one entry per resource a write changed, and the one row that numbers them."""
import json

from peewee import BigIntegerField, CharField, DateTimeField, IntegerField, TextField

from ..db import BaseModel


class ChangeEntry(BaseModel):
    """One resource changed by one write, as the API showed it before and shows it after."""

    change_id = BigIntegerField(primary_key=True)
    at = DateTimeField()
    actor = TextField()
    request_id = TextField()
    resource = CharField(max_length=16)
    resource_id = TextField()
    mentor_id = TextField()
    event = CharField(max_length=16)
    before_json = TextField(column_name="before_state", null=True)
    after_json = TextField(column_name="after_state", null=True)

    RESOURCES = ("mentor_status", "pause_record")
    # The two notices about a pause change nothing: their before and after are the pause as it is.
    EVENTS = ("created", "updated", "deleted", "return_due", "overdue")
    # What a read of the log returns, in this order (rendering.change_entry_row reads them).
    READ_COLUMNS = ("change_id", "at", "actor", "request_id", "resource", "resource_id", "mentor_id", "event",
                    "before_json", "after_json")

    # What ChangeEntrySchema dumps, beside the columns.
    @property
    def id(self):
        return self.resource_id

    @property
    def before(self):
        return None if self.before_json is None else json.loads(self.before_json)

    @property
    def after(self):
        return None if self.after_json is None else json.loads(self.after_json)


class ChangeLogHead(BaseModel):
    """One row: the last change_id handed out, and the highest one ever pruned."""

    id = IntegerField(primary_key=True)
    last_change_id = BigIntegerField()
    pruned_through = BigIntegerField()

    ROW_ID = 1
