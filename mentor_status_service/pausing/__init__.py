"""Pausing: mentor statuses and pause records, and the rules that keep the two consistent.

models.py (tables), rules.py (every write, one transaction each), reads.py (what the views read),
lookups.py (one mentor or record by key, read or locked), queries.py and pause_record_lists.py (the
statements of list pages), keyset.py, cursors.py, totals.py and reason_totals.py (keyset pages and
exact totals), schemas.py (the API's shapes, which rendering.py and exports.py derive the JSON and
CSV from), imports.py and bulk_writes.py (bulk loads: reading them, and their multi-row statements), windows.py
(a pause's span, a window, and the lists' conditions and totals of their overlap), calendars.py (the
pause-record list as an iCalendar), mentor_statuses.py and pause_records.py (the two blueprints),
commands.py (demo-data, resume-due, db recount), metrics.py.

Other wings use the blueprints, `COMMANDS` and `ListTotalsCollector`; the change log is told here how
to record the two resources.
"""
from ..changes import log as change_log
from .models import MentorStatus, PauseRecord
from .rendering import mentor_status, pause_record

change_log.register_resource(MentorStatus, "mentor_status", "mentor_id", mentor_status)
change_log.register_resource(PauseRecord, "pause_record", "pause_record_id", pause_record)
