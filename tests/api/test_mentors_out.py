"""The mentors out in a window counted by the status each has now (migration 0018): exact through
every change of status and of spans, and after a recount repairs what SQL with the triggers off
left; checked against spans computed from the JSON of every pause."""
import itertools

import pytest
from factories import create_mentor
from servers import invariant_violations
from windows_world import (
    DAY,
    MENTORS,
    RECORDS,
    all_pauses,
    everything,
    expected_lists,
    interval,
    make_world,
    text,
    walk,
    windows,
)

from mentor_status_service.db import database
from mentor_status_service.pausing import few_paused, totals


@pytest.fixture
def world(client):
    return make_world(client)


def test_the_mentors_out_of_each_status_stay_exact_as_statuses_and_spans_change(client, app, world):
    """The mentors out are counted by the status each has now, which its pauses carry, and over the
    mentors whose spans may overlap (migration 0018): after a resume, a pause, a change of base
    status (through the API and by SQL), pauses moved to overlap and apart, and a deletion."""
    now, base = world["now"], world["base"]
    layered = [row["pause_record_id"] for row in all_pauses(client) if row["mentor_id"] == "layered"]
    changes = [
        lambda: client.put(f"{MENTORS}/layered_paused", json={"status": "active"}),
        lambda: client.put(f"{MENTORS}/layered", json={"status": "paused", "pause_start_date": text(base - DAY)}),
        lambda: client.put(f"{MENTORS}/twice", json={"status": "inactive"}),
        lambda: client.put(f"{RECORDS}/{layered[0]}", json={"start_date": text(base - 4 * DAY),
                                                             "end_date": text(base - 3 * DAY)}),
        lambda: client.put(f"{RECORDS}/{layered[2]}", json={"start_date": text(base - 60 * DAY),
                                                             "end_date": text(base - 50 * DAY)}),
        lambda: client.delete(f"{RECORDS}/{layered[1]}"),
    ]
    for step, change in enumerate([*changes, None]):
        if change is None:
            # An operator's SQL: the triggers move the pauses to the mentor's new status as for the
            # service's writes; the list totals, which the service keeps, want the recount that
            # docs/operations.md asks for after such a fix.
            with app.app_context():
                database.obj.execute_sql("UPDATE mentor_status SET base_status = 'active' WHERE mentor_id = 'back'")
                assert invariant_violations(app.config["DATABASE_URL"]) == [
                    "list total mentors_active is 6, the tables hold 7",
                    "list total mentors_inactive is 5, the tables hold 4"]
                totals.recount()
                database.close()
        else:
            assert change().status_code in (200, 204)
        for (start, end), status in itertools.product(windows(world["points"])[::4], [None, "active", "paused",
                                                                                      "inactive"]):
            _, out, available, mentors = expected_lists(client, start, end, now)
            for name, chosen in (("out_during", out), ("available_during", available)):
                expected = sorted(mentor_id for mentor_id in chosen if status in (None, mentors[mentor_id]["status"]))
                query = {name: interval(start, end), "limit": 100, **({"status": status} if status else {})}
                listed = client.get(MENTORS, query_string=query).json
                assert [row["mentor_id"] for row in listed["data"]] == expected, query
                assert listed["pagination"]["total"] == len(expected), (query, step)
        assert invariant_violations(app.config["DATABASE_URL"]) == []


def test_a_recount_sets_again_the_status_pauses_carry_and_the_mentors_whose_spans_overlap(client, app, world):
    """What SQL run with the triggers off could leave (a bulk load, a restore): pauses carrying
    another status than their mentor's, a mentor whose spans overlap not listed, one listed whose do
    not. The recount of docs/operations.md sets them again, and the lists are exact after it."""
    now = world["now"]
    with app.app_context():
        db = database.obj
        db.execute_sql("UPDATE pause_record SET status_of_mentor = 'inactive' WHERE mentor_id = 'overdue'")
        db.execute_sql("DELETE FROM mentor_overlapping_spans WHERE mentor_id = 'layered'")
        db.execute_sql("INSERT INTO mentor_overlapping_spans (mentor_id) VALUES ('free')")
        problems = invariant_violations(app.config["DATABASE_URL"])
        assert any("carries its mentor's status as 'inactive', not 'paused'" in problem for problem in problems)
        assert any(problem.startswith("mentors with spans that may overlap") for problem in problems)
        totals.recount()
        database.close()
    assert invariant_violations(app.config["DATABASE_URL"]) == []
    for start, end in windows(world["points"])[::3]:
        _, out, _, mentors = expected_lists(client, start, end, now)
        for status in ("paused", "inactive"):
            expected = sorted(mentor_id for mentor_id in out if mentors[mentor_id]["status"] == status)
            listed = client.get(MENTORS, query_string={"out_during": interval(start, end), "status": status,
                                                       "limit": 100}).json
            assert ([row["mentor_id"] for row in listed["data"]], listed["pagination"]["total"]) == (
                expected, len(expected))


def test_few_paused_mentors_available_are_read_from_the_ranges_where_their_active_pause_misses_the_window(
        client, app, world, monkeypatch):
    """When the counts say few paused mentors are available in a window, the pages that read paused
    mentors alone take them from the active pauses whose spans miss it (windows.py): starting after
    it, ending before it by an end date or a return still to come, or of no length. The lists are
    those the spans give, and the same when there are too many such pauses and the page walks."""
    now, base = world["now"], world["base"]
    create_mentor(client, "ending", status="paused", pause_start_date=text(base - 4 * DAY),
                  expected_return_date=text(base + 30 * DAY))
    (ending,) = [row["pause_record_id"] for row in all_pauses(client) if row["mentor_id"] == "ending"]
    assert client.put(f"{RECORDS}/{ending}", json={"end_date": text(base + 5 * DAY)}).status_code == 200
    # Active pauses of no length, one without an end date and one with: only SQL makes them (the API
    # schedules a pause that starts after now).
    for mentor_id, end_date in (("instant_active", "NULL"), ("instant_ending", "start_date")):
        create_mentor(client, mentor_id, status="paused", pause_start_date=text(base - DAY))
        with app.app_context():
            db = database.obj
            db.execute_sql(f"UPDATE pause_record SET start_date = {db.param}, expected_return_date = {db.param} "
                           f"WHERE mentor_id = '{mentor_id}'", (base + 12 * DAY, base + 12 * DAY))
            db.execute_sql(f"UPDATE pause_record SET end_date = {end_date} WHERE mentor_id = '{mentor_id}'")
            database.close()
    found = []
    read = few_paused.available_in
    monkeypatch.setattr(few_paused, "available_in", lambda *args: found.append(read(*args)) or found[-1])
    points = sorted({*world["points"], base + 5 * DAY, base + 6 * DAY, base + 12 * DAY, base + 13 * DAY})
    queries = [{"sort": "expected_return_date"}, {"is_paused": "true", "sort": "-mentor_id"},
               {"status": "paused", "sort": "pause_start_date"}, {"is_paused": "true", "sort": "-last_updated"}]
    available = {(start, end): expected_lists(client, start, end, now)[2] for start, end in windows(points)[::2]}
    ordered = {str(extra): [row["mentor_id"] for row in everything(client, MENTORS, **extra)] for extra in queries}
    for walks in (False, True):
        if walks:
            monkeypatch.setattr(few_paused, "_CANDIDATES_MAX", 0)
        for (start, end), extra in itertools.product(available, queries):
            expected = [mentor_id for mentor_id in ordered[str(extra)] if mentor_id in available[start, end]]
            rows, totals_seen = walk(client, MENTORS, available_during=interval(start, end), **extra)
            assert ([row["mentor_id"] for row in rows], totals_seen) == (expected, {len(expected)}), (extra, walks)
        read_from_ranges = {mentor_id for ids in found if ids for mentor_id in ids}
        if walks:
            assert read_from_ranges == set()
        else:
            assert {"due", "ending", "instant_active", "instant_ending"} <= read_from_ranges
        found.clear()
