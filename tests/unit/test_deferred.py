"""db/deferred.py through the list totals, on both backends: a delta a write holds back (on
PostgreSQL, to travel with its change entries) is seen by the write's next read, commits with it
when nothing follows, leaves with its rollback, and still folds the totals every FOLD_EVERY."""
import pytest

from mentor_status_service.db import database
from mentor_status_service.pausing import rules, totals
from mentor_status_service.pausing.models import ListTotalsDelta
from mentor_status_service.pausing.totals import TotalsMoved


class Undone(Exception):
    pass


def one_more_active():
    moved = TotalsMoved()
    moved.mentor(None, "active")
    return moved


def test_a_held_delta_is_read_by_its_own_write_and_commits_with_it(app):
    with app.app_context():
        before = totals.read()["mentors_active"]
        with database.atomic():
            totals.add(one_more_active())
            assert totals.read()["mentors_active"] == before + 1
        with database.atomic():
            totals.add(one_more_active())  # the write's last statement: sent before its COMMIT
        assert totals.read()["mentors_active"] == before + 2


def test_a_held_delta_leaves_with_its_rollback(app):
    with app.app_context():
        before = totals.read()
        with pytest.raises(Undone), database.atomic():
            totals.add(one_more_active())
            raise Undone()
        with database.atomic():
            pass  # nothing held is left over for the next transaction of the thread
        assert totals.read() == before


def test_writes_whose_delta_travels_with_their_entries_still_fold(app, monkeypatch):
    monkeypatch.setattr(totals, "FOLD_EVERY", 2)
    with app.app_context():
        for number in range(5):
            rules.create_mentor_status({"mentor_id": f"mentor-{number}", "status": "active"})
        assert ListTotalsDelta.select().count() < 2  # folded as the writes went
        assert totals.read()["mentors_active"] == 5
