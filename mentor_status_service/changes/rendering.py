"""The shape of a change entry (web/shapes.py), read from its response schema, with where each field's
value lies in a row of `ChangeEntry.READ_COLUMNS` where it is not the column of its own name."""
from ..web.shapes import Shape
from .models import ChangeEntry
from .schemas import ChangeEntrySchema

CHANGE_ENTRY = Shape(ChangeEntrySchema, ChangeEntry.READ_COLUMNS, sources={
    "id": "resource_id", "before": "before_json", "after": "after_json"})

change_entry_row = CHANGE_ENTRY.render_row
