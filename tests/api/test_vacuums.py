"""On PostgreSQL the tables that folds churn are vacuumed by a thread of each process after its folds
(mentor_status_service/db/vacuums.py), whether autovacuum runs or not, directly and through PgBouncer."""
import datetime as dt
import logging
import time

import pytest
from factories import create_mentor

from mentor_status_service.db import database, vacuums
from mentor_status_service.pausing import totals

CHURNED = ["list_totals", "list_totals_delta", "reason_totals", "reason_totals_delta", "return_day_totals",
           "return_day_totals_delta", "span_day_totals", "span_day_totals_delta"]


def last_vacuums():
    rows = database.execute_sql("SELECT relname, last_vacuum FROM pg_stat_user_tables WHERE relname IN (" +
                                ", ".join(f"'{name}'" for name in CHURNED) + ")").fetchall()
    database.close()
    return dict(rows)


@pytest.mark.parametrize("database_url", ["postgresql", "pgbouncer"], indirect=True)
def test_the_folds_of_a_process_have_it_vacuum_the_tables_they_churn(client, monkeypatch):
    monkeypatch.setattr(vacuums, "VACUUM_EVERY_S", 0.05)
    monkeypatch.setattr(totals, "FOLD_EVERY", 4)
    started = dt.datetime.now(dt.timezone.utc)
    assert all(when is None or when < started for when in last_vacuums().values())
    create_mentor(client, "mentor-001")
    for _ in range(4):  # each pause and resume moves the list totals, a reason, a return day and the spans
        paused = {"status": "paused", "expected_return_date": "2030-01-01T00:00:00Z", "pause_reason": "training"}
        assert client.put("/api/v1/mentor-statuses/mentor-001", json=paused).status_code == 200
        assert client.put("/api/v1/mentor-statuses/mentor-001", json={"status": "active"}).status_code == 200

    deadline = time.monotonic() + 10
    seen = last_vacuums()
    while not all(when is not None and when > started for when in seen.values()):
        assert time.monotonic() < deadline, f"not vacuumed since the folds: {seen}"
        time.sleep(0.05)
        seen = last_vacuums()
    assert sorted(seen) == CHURNED
    assert client.get("/api/v1/mentor-statuses").json["pagination"]["total"] == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_vacuum_that_fails_is_logged_and_the_next_one_runs(app, caplog):
    vacuumer = database.obj._vacuumer
    with caplog.at_level(logging.WARNING, logger="mentor_status_service.db.vacuums"):
        vacuumer.vacuum(["no_such_table"])
    assert 'vacuum of no_such_table failed: relation "no_such_table" does not exist' in caplog.text
    vacuumer.vacuum(["list_totals_delta"])
    assert last_vacuums()["list_totals_delta"] is not None
