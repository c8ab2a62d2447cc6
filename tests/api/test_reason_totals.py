"""The pause-record list filtered by `reason` alone gives its exact total from the totals per reason,
kept by every write that creates, deletes or changes the reason of a pause record, not by counting
the reason's records."""
import pytest
from factories import assert_consistent, create_mentor, create_pause
from servers import table_violations

from mentor_status_service.db import database
from mentor_status_service.pausing import reason_totals, totals
from mentor_status_service.pausing.models import ReasonTotals, ReasonTotalsDelta

MENTORS, RECORDS = "/api/v1/mentor-statuses", "/api/v1/pause-records"
PAST = {"start_date": "2025-01-01", "end_date": "2025-02-01"}


def total(client, reason, **query):
    response = client.get(RECORDS, query_string={"reason": reason, **query})
    assert response.status_code == 200, response.json
    return response.json["pagination"]["total"]


def totals_of(client, *reasons):
    return {reason: total(client, reason) for reason in reasons}


def put(client, path, body):
    response = client.put(path, json=body)
    assert response.status_code == 200, response.json
    return response.json


def test_the_reason_total_is_read_from_the_kept_totals_and_recount_repairs_a_drift(client, runner):
    create_mentor(client, "mentor-001")
    for month in (1, 2, 3):
        create_pause(client, "mentor-001", reason="travel", start_date=f"2025-0{month}-01",
                     end_date=f"2025-0{month}-20")
    # Drift, as a restore or a bulk load by SQL would leave it.
    ReasonTotalsDelta.insert(reason="travel", records=5).execute()

    assert total(client, "travel") == 8  # what is kept, not what is counted
    assert total(client, "travel", sort="-start_date") == 8
    assert total(client, "travel", is_active="false") == 3  # two filters: counted
    assert table_violations(database.obj) == ["reason total 'travel' is 8, the tables hold 3"]

    result = runner.invoke(args=["db", "recount"])

    assert result.exit_code == 0, result.output
    assert "reason totals recounted: 1 reason(s), 3 pause record(s) with one\n" in result.output
    assert total(client, "travel") == 3
    assert table_violations(database.obj) == []


def test_creating_changing_and_deleting_pauses_moves_the_reason_totals(client):
    create_mentor(client, "mentor-001", status="paused", pause_reason="travel")
    create_mentor(client, "mentor-002")
    past = create_pause(client, "mentor-002", reason="illness", **PAST)
    create_pause(client, "mentor-002", **{**PAST, "start_date": "2025-03-01", "end_date": "2025-04-01"})
    assert totals_of(client, "travel", "illness") == {"travel": 1, "illness": 1}

    put(client, f"{MENTORS}/mentor-001", {"pause_reason": "illness"})  # the active pause's reason
    assert totals_of(client, "travel", "illness") == {"travel": 0, "illness": 2}
    put(client, f"{RECORDS}/{past['pause_record_id']}", {"reason": None})
    assert totals_of(client, "travel", "illness") == {"travel": 0, "illness": 1}
    put(client, f"{RECORDS}/{past['pause_record_id']}", {"reason": "travel"})
    put(client, f"{MENTORS}/mentor-001", {"status": "active"})  # ends the pause: its reason stays
    assert totals_of(client, "travel", "illness") == {"travel": 1, "illness": 1}
    put(client, f"{MENTORS}/mentor-002", {"status": "paused", "pause_reason": "travel"})
    assert totals_of(client, "travel", "illness") == {"travel": 2, "illness": 1}

    assert client.delete(f"{RECORDS}/{past['pause_record_id']}").status_code == 200
    assert totals_of(client, "travel", "illness") == {"travel": 1, "illness": 1}
    assert client.delete(f"{MENTORS}/mentor-001").status_code == 200  # its pause records go with it
    assert totals_of(client, "travel", "illness") == {"travel": 1, "illness": 0}
    assert reason_totals.read_all() == {"travel": 1}
    assert_consistent(client)
    assert table_violations(database.obj) == []


def test_erasing_a_mentor_takes_every_reason_of_its_pauses_off_the_totals(client):
    create_mentor(client, "mentor-001")
    create_mentor(client, "mentor-002")
    for number, reason in enumerate(("travel", "travel", "illness", None), start=1):
        create_pause(client, "mentor-001", reason=reason, start_date=f"2025-0{number}-01",
                     end_date=f"2025-0{number}-20")
    create_pause(client, "mentor-002", reason="travel", **PAST)
    assert totals_of(client, "travel", "illness") == {"travel": 3, "illness": 1}

    assert client.delete(f"{MENTORS}/mentor-001").status_code == 200

    assert totals_of(client, "travel", "illness") == {"travel": 1, "illness": 0}
    assert table_violations(database.obj) == []


def test_a_load_moves_the_reason_totals_as_single_writes_would(client):
    create_mentor(client, "mentor-000", status="paused", pause_reason="travel")
    load = client.post(f"{MENTORS}/import", json={"mentors": [
        {"mentor_id": f"mentor-{n:03d}", "status": "paused", "pause_reason": ("travel", "illness", None)[n % 3]}
        for n in range(1, 31)]})
    assert load.status_code == 200, load.json
    assert totals_of(client, "travel", "illness") == {"travel": 11, "illness": 10}

    load = client.post(f"{MENTORS}/import", query_string={"mode": "upsert"}, json={"mentors": [
        {"mentor_id": "mentor-000", "pause_reason": "illness"},  # the active pause's reason changes
        {"mentor_id": "mentor-001", "status": "active"},  # ends its pause: the reason stays counted
        {"mentor_id": "mentor-002", "pause_reason": "workload"},  # had none
        {"mentor_id": "mentor-031", "status": "paused", "pause_reason": "travel"},  # created
    ]})

    assert load.status_code == 200, load.json
    assert totals_of(client, "travel", "illness", "workload") == {"travel": 11, "illness": 11, "workload": 1}
    assert_consistent(client)
    assert table_violations(database.obj) == []


def test_folds_keep_the_reason_totals_exact_and_drop_reasons_no_record_has(client, monkeypatch):
    monkeypatch.setattr(totals, "FOLD_EVERY", 3)
    create_mentor(client, "mentor-001")
    created = [create_pause(client, "mentor-001", reason=("travel", "illness", "gone")[n % 3],
                            start_date=f"2024-{n + 1:02d}-01", end_date=f"2024-{n + 1:02d}-20") for n in range(12)]
    for record in created:
        if record["reason"] == "gone":
            assert client.delete(f"{RECORDS}/{record['pause_record_id']}").status_code == 200

    assert totals_of(client, "travel", "illness", "gone") == {"travel": 4, "illness": 4, "gone": 0}
    assert ReasonTotalsDelta.select().count() < 3  # folded as the writes went: fewer deltas left than a fold's worth
    totals.fold()  # and what is left, now: no row stays for a reason no record has
    assert ReasonTotalsDelta.select().count() == 0
    assert {row.reason: row.records for row in ReasonTotals.select()} == {"travel": 4, "illness": 4}
    assert totals_of(client, "travel", "illness", "gone") == {"travel": 4, "illness": 4, "gone": 0}


@pytest.mark.parametrize("query", [{"mentor_id": "mentor-001"}, {"is_active": "true"}, {"state": "ended"},
                                   {"during": "2025-01-01/2025-12-31"}])
def test_a_reason_with_another_filter_is_counted_exactly(client, query):
    create_mentor(client, "mentor-001", status="paused", pause_reason="travel")
    create_mentor(client, "mentor-002")
    create_pause(client, "mentor-001", reason="travel", **PAST)
    create_pause(client, "mentor-002", reason="travel", **PAST)
    ReasonTotalsDelta.insert(reason="travel", records=100).execute()  # a drift the counted totals ignore

    listed = client.get(RECORDS, query_string={"reason": "travel", "limit": 100, **query}).json

    assert listed["pagination"]["total"] == len(listed["data"]) > 0
