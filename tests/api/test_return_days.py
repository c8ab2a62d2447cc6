"""The totals of `expected_return_before` (and `overdue`) read from the returns kept per day
(migration 0016): exact at any moment of a day, before and after the deltas are folded in, after a
recount, and after every kind of write that moves a pause's return."""
import pytest
from factories import create_mentor
from servers import invariant_violations

from mentor_status_service.db import database
from mentor_status_service.pausing import totals

MENTORS = "/api/v1/mentor-statuses"
RETURNS = {"mentor-001": "2027-02-28T23:59:59Z", "mentor-002": "2027-03-01T00:00:00Z",
           "mentor-003": "2027-03-01T09:00:00Z", "mentor-004": "2027-03-01T18:00:00Z",
           "mentor-005": "2027-03-02T00:00:00Z", "mentor-006": None}
MOMENTS = ["2026-01-01T00:00:00Z", "2027-02-28T23:59:59Z", "2027-03-01T00:00:00Z", "2027-03-01T00:00:01Z",
           "2027-03-01T09:00:00Z", "2027-03-01T12:00:00Z", "2027-03-02T00:00:00Z", "2027-03-02T00:00:01Z",
           "2030-01-01T00:00:00Z"]


def due_before(client, moment):
    response = client.get(MENTORS, query_string={"expected_return_before": moment, "limit": 100})
    assert response.status_code == 200, response.json
    listed = [mentor["mentor_id"] for mentor in response.json["data"]]
    return response.json["pagination"]["total"], listed


def assert_exact(client, app, returns):
    for moment in MOMENTS:
        expected = sorted(mentor for mentor, back in returns.items() if back is not None and back < moment)
        total, listed = due_before(client, moment)
        assert (total, sorted(listed)) == (len(expected), expected), moment
    assert invariant_violations(app.config["DATABASE_URL"]) == []


def in_app(app, work):
    with app.app_context():
        try:
            return work()
        finally:
            database.close()


@pytest.fixture
def paused(client):
    for mentor_id, back in RETURNS.items():
        create_mentor(client, mentor_id, status="paused", pause_start_date="2026-12-01T00:00:00Z",
                      **({"expected_return_date": back} if back else {}))
    return dict(RETURNS)


def test_due_before_any_moment_of_a_day_is_exact_before_and_after_a_fold_and_a_recount(client, app, paused):
    assert_exact(client, app, paused)
    assert in_app(app, lambda: database.execute_sql("SELECT COUNT(*) FROM return_day_totals_delta").fetchone()[0]) > 0

    in_app(app, totals.fold)
    assert in_app(app, lambda: database.execute_sql("SELECT COUNT(*) FROM return_day_totals_delta").fetchone()[0]) == 0
    assert_exact(client, app, paused)

    in_app(app, lambda: database.execute_sql("DELETE FROM return_day_totals"))  # a drift...
    in_app(app, totals.recount)  # ... that a recount repairs
    assert_exact(client, app, paused)


def test_moving_a_return_resuming_and_pausing_move_the_days(client, app, paused):
    in_app(app, totals.fold)
    changes = {"mentor-002": {"expected_return_date": "2027-03-01T20:00:00Z"},
               "mentor-004": {"status": "active"},
               "mentor-006": {"expected_return_date": "2027-03-01T10:00:00Z"}}
    for mentor_id, fields in changes.items():
        assert client.put(f"{MENTORS}/{mentor_id}", json=fields).status_code == 200
    paused.update({"mentor-002": "2027-03-01T20:00:00Z", "mentor-004": None, "mentor-006": "2027-03-01T10:00:00Z"})
    create_mentor(client, "mentor-007", status="paused", expected_return_date="2027-03-01T05:00:00Z")
    paused["mentor-007"] = "2027-03-01T05:00:00Z"
    assert_exact(client, app, paused)
    overdue = client.get(MENTORS, query_string={"overdue": "true"}).json["pagination"]["total"]
    assert overdue == 0  # every return is still to come
