"""The shapes of mentor statuses and pause records (web/shapes.py): read from their response schemas,
with where each field's value lies in the rows the reads return (lookups.py) where it is not the
column of its own name (and as SQL, for the cells PostgreSQL writes, where it is computed). The JSON
documents and the CSV cells (exports.py) are derived from these;
tests/unit/test_rendering.py proves they decode to what the schemas dump, over generated resources.
"""
from ..web.shapes import Shape
from .lookups import MENTOR_COLUMNS, PAUSE_RECORD_COLUMNS, ActivePause
from .models import PAUSE_RECORD_ID_PREFIX
from .schemas import MentorStatusSchema, PauseRecordSchema

# A mentor is paused exactly while it has an active pause (joined as `active_pause`), and its pause
# fields are that pause's; otherwise they are null (the join's columns are).
MENTOR_STATUS = Shape(MentorStatusSchema, MENTOR_COLUMNS, joined={ActivePause: "active_pause"}, sources={
    "status": "'paused' if active_pause_id is not None else base_status",
    "is_paused": "active_pause_id is not None",
    "pause_start_date": "active_pause_start_date",
    "expected_return_date": "active_pause_expected_return_date",
    "pause_reason": "active_pause_reason",
    "metadata": "metadata_json",
}, sql_sources={
    "status": "CASE WHEN {active_pause_id} IS NOT NULL THEN 'paused' ELSE {base_status} END",
    "is_paused": "{active_pause_id} IS NOT NULL",
})

PAUSE_RECORD = Shape(PauseRecordSchema, PAUSE_RECORD_COLUMNS, sources={
    "pause_record_id": "f'{PAUSE_RECORD_ID_PREFIX}{id:04d}'",
    "is_active": "state == 'active'",
}, names={"PAUSE_RECORD_ID_PREFIX": PAUSE_RECORD_ID_PREFIX}, sql_sources={
    "pause_record_id": "{PAUSE_RECORD_ID_PREFIX} || CASE WHEN {id} BETWEEN 0 AND 999 THEN lpad({id}::text, 4, '0') "
                       "ELSE {id}::text END",  # as :04d
    "is_active": "{state} = 'active'",
})

mentor_status = MENTOR_STATUS.render  # a MentorStatus, its active_pause set
mentor_status_row = MENTOR_STATUS.render_row  # a row of MENTOR_COLUMNS
pause_record = PAUSE_RECORD.render  # a PauseRecord
pause_record_row = PAUSE_RECORD.render_row  # a row of PAUSE_RECORD_COLUMNS
