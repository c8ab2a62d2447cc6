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


def test_the_vacuum_thread_outlives_an_error_and_ends_when_stopped(monkeypatch, caplog):
    monkeypatch.setattr(vacuums, "VACUUM_EVERY_S", 0.01)
    vacuumer, asked = vacuums.Vacuumer(connect=None), []

    def vacuum(tables):
        asked.append(tables)
        if len(asked) == 1:
            raise ValueError("not a database error")

    monkeypatch.setattr(vacuumer, "vacuum", vacuum)

    def soon_then_wait(tables, count):
        vacuumer.soon(tables)
        deadline = time.monotonic() + 5
        while len(asked) < count and time.monotonic() < deadline:
            time.sleep(0.01)

    soon_then_wait(["list_totals_delta"], 1)
    soon_then_wait(["span_day_totals_delta"], 2)
    assert asked == [["list_totals_delta"], ["list_totals_delta", "span_day_totals_delta"]]
    assert "vacuums: a vacuum failed" in caplog.text
    vacuumer.stop()
    vacuumer.soon(["reason_totals_delta"])
    time.sleep(10 * vacuums.VACUUM_EVERY_S)
    assert len(asked) == 2
