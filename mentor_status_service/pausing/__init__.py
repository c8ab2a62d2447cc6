"""Pausing: mentor statuses and pause records, and the rules that keep the two consistent.

models.py (tables), rules.py (every write, one transaction each, and the reads the views make),
queries.py (the statements of reads), cursors.py and totals.py (keyset pages and exact totals),
schemas.py (the API's shapes), rendering.py and exports.py (JSON and CSV), imports.py and
bulk_writes.py (bulk loads: reading them, and their multi-row statements), windows.py (a pause's
span, and whether it overlaps a window), calendars.py (the pause-record list as an iCalendar),
mentor_statuses.py and pause_records.py (the two blueprints), commands.py (demo-data, resume-due, db
recount), metrics.py.

Other wings use the blueprints, `COMMANDS` and `ListTotalsCollector`; the change log is told here how
to record the two resources.
"""
from ..changes import log as change_log
from .models import MentorStatus, PauseRecord
from .rendering import mentor_status, pause_record

change_log.register_resource(MentorStatus, "mentor_status", "mentor_id", mentor_status)
change_log.register_resource(PauseRecord, "pause_record", "pause_record_id", pause_record)
