"""pausing/rules.py called directly, on both backends: the rules that keep a mentor and its pause
records consistent, and each write one transaction (a failure at its last step leaves nothing)."""
import datetime as dt

import pytest

from mentor_status_service.changes.log import WriteRecord
from mentor_status_service.changes.models import ChangeEntry
from mentor_status_service.db import database
from mentor_status_service.errors import Conflict, Invalid
from mentor_status_service.pausing import rules, totals
from mentor_status_service.pausing.models import ListTotals, ListTotalsDelta, MentorStatus, PauseRecord

YESTERDAY = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0) - dt.timedelta(days=1)


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        database.close()


def mentor(mentor_id="mentor-001"):
    row = MentorStatus.get_by_id(mentor_id)
    row.active_pause = PauseRecord.get_or_none((PauseRecord.mentor == mentor_id) & PauseRecord.end_date.is_null())
    return row


def snapshot():
    """Every row a write may touch, to compare before and after."""
    return [sorted(model.select().tuples()) for model in (MentorStatus, PauseRecord, ChangeEntry, ListTotalsDelta,
                                                          ListTotals)]


def counted_totals():
    """The list totals as the tables count them (totals.read() must agree)."""
    states = [pause.state for pause in PauseRecord.select()]
    paused = {pause.mentor_id for pause in PauseRecord.select().where(PauseRecord.state == "active")}
    unpaused = [each.base_status for each in MentorStatus.select() if each.mentor_id not in paused]
    return {"mentors_active": unpaused.count("active"), "mentors_inactive": unpaused.count("inactive"),
            "pauses_active": states.count("active"), "pauses_ended": states.count("ended"),
            "pauses_scheduled": states.count("scheduled")}


def test_a_mentor_created_paused_gets_its_active_pause_record(ctx):
    rules.create_mentor_status({"mentor_id": "mentor-001", "is_paused": True, "pause_reason": "leave"})

    created = mentor()
    assert created.status == "paused" and created.active_pause.reason == "leave"
    assert PauseRecord.select().count() == 1 and totals.read() == counted_totals()


def test_closing_a_pause_resumes_the_mentor(ctx):
    rules.create_mentor_status({"mentor_id": "mentor-001", "status": "inactive"})
    record = rules.create_pause_record({"mentor_id": "mentor-001", "reason": "leave"})
    assert mentor().status == "paused"

    rules.update_pause_record(record.pause_record_id, {"is_active": False})

    resumed = mentor()
    assert resumed.status == "active" and resumed.active_pause is None
    assert PauseRecord.get_by_id(record.id).end_date is not None
    assert totals.read() == counted_totals()


def test_leaving_paused_closes_the_active_pause(ctx):
    rules.create_mentor_status({"mentor_id": "mentor-001", "status": "paused"})

    rules.update_mentor_status("mentor-001", {"status": "inactive"})

    assert mentor().status == "inactive"
    assert PauseRecord.select().where(PauseRecord.end_date.is_null()).count() == 0
    assert PauseRecord.select().count() == 1 and totals.read() == counted_totals()


def test_a_second_active_pause_is_a_conflict_and_changes_nothing(ctx):
    rules.create_mentor_status({"mentor_id": "mentor-001", "status": "paused"})
    before = snapshot()

    with pytest.raises(Conflict):
        rules.create_pause_record({"mentor_id": "mentor-001"})

    assert snapshot() == before


def test_a_paused_only_field_on_a_mentor_not_paused_is_refused(ctx):
    with pytest.raises(Invalid):
        rules.create_mentor_status({"mentor_id": "mentor-001", "status": "active", "pause_reason": "leave"})

    assert MentorStatus.select().count() == 0


def test_deleting_a_mentor_deletes_its_pause_records(ctx):
    rules.create_mentor_status({"mentor_id": "mentor-001", "status": "paused"})
    rules.update_mentor_status("mentor-001", {"status": "active"})
    rules.update_mentor_status("mentor-001", {"status": "paused"})
    rules.create_mentor_status({"mentor_id": "mentor-002", "status": "paused"})

    rules.delete_mentor_status("mentor-001")

    assert [each.mentor_id for each in PauseRecord.select()] == ["mentor-002"]
    assert totals.read() == counted_totals()


def test_a_due_pause_ends_at_its_expected_return_date(ctx):
    rules.create_mentor_status({"mentor_id": "mentor-001", "status": "paused",
                                "pause_start_date": YESTERDAY - dt.timedelta(days=1),
                                "expected_return_date": YESTERDAY})
    rules.create_mentor_status({"mentor_id": "mentor-002", "status": "paused"})

    ended = rules.resume_due_pauses()

    assert [record.mentor_id for record in ended] == ["mentor-001"]
    assert PauseRecord.get(PauseRecord.mentor == "mentor-001").end_date == YESTERDAY
    assert mentor("mentor-001").status == "active" and mentor("mentor-002").status == "paused"
    assert totals.read() == counted_totals()


WRITES = {  # each given the id of mentor-002's active pause, due yesterday
    "create a paused mentor": lambda pause: rules.create_mentor_status({"mentor_id": "mentor-new", "status": "paused"}),
    "pause a mentor": lambda pause: rules.update_mentor_status("mentor-001", {"status": "paused"}),
    "open a pause": lambda pause: rules.create_pause_record({"mentor_id": "mentor-001"}),
    "close a pause": lambda pause: rules.update_pause_record(pause, {"is_active": False}),
    "delete a pause": lambda pause: rules.delete_pause_record(pause),
    "delete a mentor": lambda pause: rules.delete_mentor_status("mentor-002"),
    "resume due pauses": lambda pause: rules.resume_due_pauses(),
}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_a_write_that_fails_at_its_last_step_leaves_nothing(ctx, monkeypatch, write):
    rules.create_mentor_status({"mentor_id": "mentor-001"})
    rules.create_mentor_status({"mentor_id": "mentor-002", "status": "paused", "expected_return_date": YESTERDAY,
                                "pause_start_date": YESTERDAY - dt.timedelta(days=1)})
    pause = mentor("mentor-002").active_pause.pause_record_id
    before = snapshot()

    def fail(*args, **kwargs):
        raise RuntimeError("the change log is unreachable")

    monkeypatch.setattr(WriteRecord, "append", fail)  # the last step of every write
    with pytest.raises(RuntimeError):
        write(pause)

    assert snapshot() == before
