"""Pauses over time: scheduled pauses, future end dates, overlaps, and the moments the service applies
by itself (starts, ends, the return_due and overdue notices), on both backends.

The rules are driven through the applier with a "now" ahead of the clock (`schedule.apply_due(now)`);
tests/system/test_schedule_in_gunicorn.py runs the real `gunicorn wsgi:app` and waits for it to apply
moments on its own."""
import datetime as dt
import json
import logging
import threading
from types import SimpleNamespace

import pytest
from factories import assert_consistent, create_mentor, get_mentor
from servers import invariant_violations

from mentor_status_service import create_app
from mentor_status_service.changes import log as change_log
from mentor_status_service.config import ConfigurationError
from mentor_status_service.db import database, open_database
from mentor_status_service.pausing import moment_rules, schedule
from mentor_status_service.webhooks import messages

MENTOR = "/api/v1/mentor-statuses/mentor-001"
RECORDS = "/api/v1/pause-records"


def now():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def iso(moment):
    return moment.isoformat() + "Z"


def days(count):
    return dt.timedelta(days=count)


def pause(client, expect=201, mentor_id="mentor-001", **fields):
    for name, value in fields.items():
        if isinstance(value, dt.datetime):
            fields[name] = iso(value)
    response = client.post(RECORDS, json={"mentor_id": mentor_id, **fields})
    assert response.status_code == expect, response.json
    return response.json


def put(client, record, expect=200, **fields):
    fields = {name: iso(value) if isinstance(value, dt.datetime) else value for name, value in fields.items()}
    response = client.put(f"{RECORDS}/{record['pause_record_id']}", json=fields)
    assert response.status_code == expect, response.json
    return response.json


def read(client, record):
    return client.get(f"{RECORDS}/{record['pause_record_id']}").json


def total(client, path, **query):
    response = client.get(path, query_string=query)
    assert response.status_code == 200, response.json
    return response.json["pagination"]["total"]


def apply_at(app, moment):
    """The applier, run once as if the database's clock said `moment`; how many moments it applied."""
    with app.app_context():
        try:
            return schedule.apply_due(moment)
        finally:
            database.close()


def history(client, mentor_id="mentor-001"):
    return client.get(f"/api/v1/mentor-statuses/{mentor_id}/history", query_string={"limit": 100}).json["data"]


def notices(client, mentor_id="mentor-001"):
    return [(entry["id"], entry["event"]) for entry in reversed(history(client, mentor_id))
            if entry["event"] in ("return_due", "overdue")]


def consistent(app):
    """The two resources agree and every list total is exact, read from the tables and through the API."""
    assert invariant_violations(app.config["DATABASE_URL"]) == []
    assert_consistent(app.test_client())


# Creating

def test_a_pause_without_dates_ahead_is_active_and_pauses_its_mentor(client):
    create_mentor(client)

    record = pause(client, start_date=now() - days(1), expected_return_date=now() + days(3))

    assert (record["state"], record["is_active"], list(record)[5:7]) == ("active", True, ["is_active", "state"])
    assert get_mentor(client)["status"] == "paused"


def test_a_pause_starting_later_is_scheduled_and_leaves_the_mentor_as_it_is(client):
    create_mentor(client, status="inactive")
    start = now() + days(30)

    record = pause(client, start_date=start, expected_return_date=start + days(31), reason="parental_leave")

    assert (record["state"], record["is_active"], record["end_date"]) == ("scheduled", False, None)
    mentor = get_mentor(client)
    assert (mentor["status"], mentor["pause_start_date"]) == ("inactive", None)
    assert [entry["resource"] for entry in history(client)] == ["pause_record", "mentor_status"]


def test_a_pause_that_ended_is_recorded_as_ended_and_changes_nothing_else(client):
    create_mentor(client)

    record = pause(client, start_date=now() - days(10), end_date=now() - days(2))

    assert (record["state"], record["is_active"]) == ("ended", False)
    assert get_mentor(client)["status"] == "active"


def test_a_pause_begun_with_an_end_ahead_is_active_until_then(client):
    create_mentor(client)
    end = now() + days(14)

    record = pause(client, start_date=now() - days(1), end_date=end)

    assert (record["state"], record["is_active"], record["end_date"]) == ("active", True, iso(end))
    assert get_mentor(client)["status"] == "paused"


@pytest.mark.parametrize("fields, named", [
    ({"is_active": True, "end_date": "2020-01-02"}, {"is_active", "end_date"}),
    ({"is_active": False, "end_date": "2999-01-02"}, {"is_active", "end_date"}),
    ({"is_active": True, "start_date": "2999-01-01"}, {"is_active"}),
])
def test_is_active_that_contradicts_the_dates_is_a_422_naming_them(client, fields, named):
    create_mentor(client)

    response = client.post(RECORDS, json={"mentor_id": "mentor-001", "start_date": "2020-01-01", **fields})

    assert response.status_code == 422 and set(response.json["errors"]["json"]) == named


# Lists

def test_the_state_filter_lists_each_state_with_exact_totals_and_csv_shows_it(client):
    for mentor_id in ("a", "b", "c"):
        create_mentor(client, mentor_id)
    pause(client, mentor_id="a", start_date=now() + days(5), expected_return_date=now() + days(9))
    pause(client, mentor_id="a", start_date=now() + days(50))
    pause(client, mentor_id="b")
    pause(client, mentor_id="c", start_date=now() - days(9), end_date=now() - days(8))

    assert [total(client, RECORDS, state=state) for state in ("scheduled", "active", "ended")] == [2, 1, 1]
    assert total(client, RECORDS, is_active="false") == 3
    assert total(client, RECORDS, is_active="true", state="ended") == 0
    assert total(client, RECORDS, state="scheduled", mentor_id="a", sort="-start_date") == 2
    listed = client.get(RECORDS, query_string={"state": "scheduled", "limit": 1}).json
    following = client.get(RECORDS, query_string={"state": "scheduled", "limit": 1,
                                                   "cursor": listed["pagination"]["next_cursor"]}).json
    assert [row["pause_record_id"] for row in listed["data"] + following["data"]] == ["pause-rec-0001",
                                                                                      "pause-rec-0002"]
    csv = client.get(RECORDS, query_string={"format": "csv", "state": "scheduled"})
    rows = csv.get_data(as_text=True).split("\r\n")
    assert rows[0].split(",")[5:7] == ["is_active", "state"] and rows[1].split(",")[5:7] == ["false", "scheduled"]
    assert len([row for row in rows if row]) == 3
    bad = client.get(RECORDS, query_string={"state": "paused"})
    assert bad.status_code == 422 and "state" in bad.json["errors"]["query"]

    assert client.delete("/api/v1/mentor-statuses/a").status_code == 200
    assert total(client, RECORDS, state="scheduled") == 0
    assert_consistent(client)


# Overlaps

def test_a_pause_overlapping_a_scheduled_one_is_a_409_naming_it(client):
    create_mentor(client)
    base = now()
    first = pause(client, start_date=base + days(10), end_date=base + days(20))

    response = client.post(RECORDS, json={"mentor_id": "mentor-001", "start_date": iso(base + days(19))})

    assert response.status_code == 409 and first["pause_record_id"] in response.json["message"]
    # Half-open spans: one may begin exactly when the other ends, and end exactly when it begins.
    pause(client, start_date=base + days(20), end_date=base + days(25))
    pause(client, start_date=base + days(5), expected_return_date=base + days(10))


def test_a_pause_cannot_be_scheduled_while_the_active_one_has_no_end_in_sight(client):
    create_mentor(client, status="paused")
    active = client.get(RECORDS).json["data"][0]

    refused = client.post(RECORDS, json={"mentor_id": "mentor-001", "start_date": iso(now() + days(40))})
    assert refused.status_code == 409 and active["pause_record_id"] in refused.json["message"]

    client.put(MENTOR, json={"expected_return_date": iso(now() + days(30))})
    later = pause(client, start_date=now() + days(40))
    # Moving the active pause's return past the scheduled start, from either resource, is refused too.
    for response in (client.put(MENTOR, json={"expected_return_date": iso(now() + days(41))}),
                     client.put(f"{RECORDS}/{active['pause_record_id']}",
                                json={"end_date": iso(now() + days(45))})):
        assert response.status_code == 409 and later["pause_record_id"] in response.json["message"]


def test_pausing_a_mentor_over_a_scheduled_pause_is_a_409_naming_it(client):
    create_mentor(client)
    start = now() + days(3)
    scheduled = pause(client, start_date=start)

    response = client.put(MENTOR, json={"status": "paused"})

    assert response.status_code == 409 and scheduled["pause_record_id"] in response.json["message"]
    ending_in_time = client.put(MENTOR, json={"status": "paused", "expected_return_date": iso(start)})
    assert ending_in_time.status_code == 200


def test_reopening_over_a_scheduled_pause_is_a_409(client):
    create_mentor(client)
    old = pause(client, start_date=now() - days(30), end_date=now() - days(20))
    scheduled = pause(client, start_date=now() + days(2))

    response = client.put(f"{RECORDS}/{old['pause_record_id']}", json={"is_active": True})

    assert response.status_code == 409 and scheduled["pause_record_id"] in response.json["message"]


# Changing

def test_put_moves_a_pause_between_states_by_its_dates(client, app):
    create_mentor(client)
    record = pause(client, expected_return_date=now() + days(5))

    again_scheduled = put(client, record, start_date=now() + days(1))
    assert again_scheduled["state"] == "scheduled" and get_mentor(client)["status"] == "active"

    refused = client.put(f"{RECORDS}/{record['pause_record_id']}", json={"is_active": True})
    assert refused.status_code == 409 and "start_date" in refused.json["message"]

    begun = put(client, record, start_date=now() - days(1))
    assert begun["state"] == "active" and get_mentor(client)["pause_start_date"] == begun["start_date"]

    until_later = put(client, record, end_date=now() + days(2))
    assert (until_later["state"], get_mentor(client)["status"]) == ("active", "paused")

    closed = put(client, record, is_active=False)  # ends now, not at its later end_date
    assert closed["state"] == "ended" and closed["end_date"] <= iso(now())
    assert get_mentor(client)["status"] == "active"

    reopened_until = put(client, record, end_date=now() + days(3))
    assert reopened_until["state"] == "active" and get_mentor(client)["status"] == "paused"

    reopened = put(client, record, is_active=True)
    assert (reopened["state"], reopened["end_date"]) == ("active", None)
    consistent(app)


# Moments

def test_a_scheduled_pause_begins_at_its_start_and_ends_at_its_end(client, app):
    create_mentor(client, status="inactive")
    start, end = now() + days(10), now() + days(20)
    record = pause(client, start_date=start, end_date=end, reason="travel")

    assert apply_at(app, start - dt.timedelta(seconds=1)) == 0
    assert read(client, record)["state"] == "scheduled"

    assert apply_at(app, start) == 1
    begun, mentor = read(client, record), get_mentor(client)
    assert (begun["state"], begun["is_active"]) == ("active", True)
    assert (mentor["status"], mentor["pause_start_date"], mentor["pause_reason"]) == ("paused", iso(start), "travel")
    assert total(client, RECORDS, state="active") == 1 and total(client, RECORDS, state="scheduled") == 0

    apply_at(app, end + dt.timedelta(seconds=5))
    ended, mentor = read(client, record), get_mentor(client)
    assert (ended["state"], ended["end_date"]) == ("ended", iso(end))  # at its own date, however late applied
    assert (mentor["status"], mentor["pause_start_date"]) == ("active", None)
    entries = [entry for entry in history(client) if entry["actor"] == "job:schedule"]
    assert [(entry["resource"], entry["event"]) for entry in entries] == [
        ("mentor_status", "updated"), ("pause_record", "updated")] * 2
    assert entries[-1]["after"]["state"] == "active" and entries[1]["after"]["state"] == "ended"
    assert total(client, RECORDS, state="ended") == 1
    consistent(app)


def test_a_scheduled_pause_starting_while_an_overdue_one_is_active_ends_that_one_at_its_start(client, app):
    create_mentor(client)
    old = pause(client, start_date=now() - days(3), expected_return_date=now() + days(1), reason="illness")
    start = now() + days(2)
    new = pause(client, start_date=start, expected_return_date=start + days(7), reason="travel")

    apply_at(app, start + dt.timedelta(seconds=1))

    assert (read(client, old)["state"], read(client, old)["end_date"]) == ("ended", iso(start))
    assert read(client, new)["state"] == "active"
    mentor = get_mentor(client)
    assert (mentor["status"], mentor["pause_reason"], mentor["pause_start_date"]) == ("paused", "travel", iso(start))
    consistent(app)


def test_moments_that_passed_while_nothing_ran_are_applied_in_order_at_their_own_dates(client, app):
    create_mentor(client)
    first = pause(client, start_date=now() + days(1), end_date=now() + days(3))
    second = pause(client, start_date=now() + days(5), expected_return_date=now() + days(30))

    apply_at(app, now() + days(6))

    assert (read(client, first)["state"], read(client, first)["end_date"]) == ("ended", first["end_date"])
    assert read(client, second)["state"] == "active"
    assert get_mentor(client)["pause_start_date"] == second["start_date"]
    consistent(app)


def test_notices_are_published_once_and_again_for_a_new_expected_return(client, app):
    create_mentor(client)
    expected = now() + days(10)
    record = pause(client, expected_return_date=expected)
    rid = record["pause_record_id"]

    apply_at(app, expected - days(7) - dt.timedelta(seconds=1))
    assert notices(client) == []
    apply_at(app, expected - days(7))
    apply_at(app, expected - days(6))
    assert notices(client) == [(rid, "return_due")]
    notice = history(client)[0]
    assert notice["before"] == notice["after"] == read(client, record) and notice["actor"] == "job:schedule"

    apply_at(app, expected + dt.timedelta(seconds=1))
    apply_at(app, expected + days(1))
    assert notices(client) == [(rid, "return_due"), (rid, "overdue")]
    assert read(client, record)["state"] == "active"  # overdue, not ended

    moved = now() + days(20)
    put(client, record, expected_return_date=moved)
    apply_at(app, moved + dt.timedelta(seconds=1))
    assert notices(client) == [(rid, "return_due"), (rid, "overdue"), (rid, "return_due"), (rid, "overdue")]

    with app.app_context():  # what a webhook receives: the type is the resource and the notice
        rows = [row for row in change_log.feed(0, 1000)[0] if row[7] in ("return_due", "overdue")]
        types = [json.loads(messages.message(SimpleNamespace(webhook_id="wh-1"), row)[1])["type"]
                 for row in rows]
        database.close()
    assert types == ["pause_record.return_due", "pause_record.overdue"] * 2


def test_a_notice_whose_moment_had_passed_when_written_is_never_published(client, app):
    create_mentor(client)
    # Less than 7 days ahead: its return_due moment has passed as it is written.
    soon = pause(client, start_date=now() - days(1), expected_return_date=now() + days(3))

    apply_at(app, now() + days(2))
    assert notices(client) == []

    put(client, soon, expected_return_date=now() - dt.timedelta(hours=1))  # overdue as written: no notice
    apply_at(app, now() + days(1))
    assert notices(client) == []
    changes = client.get("/api/v1/changes", query_string={"limit": 1000}).json["data"]
    assert not [entry for entry in changes if entry["actor"] == "job:schedule"]


def test_a_scheduled_pause_gets_its_return_due_notice_when_it_begins(client, app):
    create_mentor(client)
    start = now() + days(2)
    record = pause(client, start_date=start, expected_return_date=start + days(3))

    apply_at(app, start)

    assert read(client, record)["state"] == "active"
    assert notices(client) == [(record["pause_record_id"], "return_due")]


def test_with_auto_return_a_pause_ends_at_its_expected_return(configured):
    app = configured(PAUSE_AUTO_RETURN=True, RETURN_NOTICE_DAYS=0)
    client = app.test_client()
    create_mentor(client)
    expected = now() + days(4)
    record = pause(client, expected_return_date=expected)

    apply_at(app, expected + days(1))

    ended = read(client, record)
    assert (ended["state"], ended["end_date"]) == ("ended", iso(expected))
    assert get_mentor(client)["status"] == "active" and notices(client) == []
    consistent(app)


def test_appliers_running_at_once_apply_each_moment_once(client, app):
    mentors = [f"m{number:02d}" for number in range(24)]
    start = now() + days(1)
    for mentor_id in mentors:
        create_mentor(client, mentor_id)
        pause(client, mentor_id=mentor_id, start_date=start, expected_return_date=start + days(3))
    errors = []

    def applier():
        try:
            apply_at(app, start + days(5))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=applier) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    changes = client.get("/api/v1/changes", query_string={"limit": 1000}).json["data"]
    applied = [(entry["id"], entry["event"]) for entry in changes if entry["actor"] == "job:schedule"]
    # Each pause begun, its mentor paused, and the pause's return_due and overdue notices.
    assert len(applied) == len(set(applied)) == 4 * len(mentors)
    assert total(client, RECORDS, state="active") == len(mentors)
    consistent(app)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_mentor_held_by_another_transaction_is_left_for_the_next_look(client, app, database_url):
    create_mentor(client)
    start = now() + days(1)
    record = pause(client, start_date=start)
    holder = open_database(database_url)
    holder.execute_sql("BEGIN")
    holder.execute_sql("SELECT mentor_id FROM mentor_status WHERE mentor_id = 'mentor-001' FOR UPDATE")
    try:
        assert apply_at(app, start) == 0  # not waited for: other moments go on meanwhile
        assert read(client, record)["state"] == "scheduled"
    finally:
        holder.execute_sql("ROLLBACK")
        holder.close()

    assert apply_at(app, start) == 1
    assert read(client, record)["state"] == "active"


def test_a_failed_apply_is_logged_and_tried_again(client, app, monkeypatch, caplog):
    create_mentor(client)
    start = now() + days(1)
    record = pause(client, start_date=start)
    real = moment_rules.apply_due_moments
    calls = []

    def failing_once(numbers, moment):
        calls.append(numbers)
        if len(calls) == 1:
            raise RuntimeError("disk on fire")
        return real(numbers, moment)

    monkeypatch.setattr(moment_rules, "apply_due_moments", failing_once)
    scheduler = schedule.Scheduler(app, 1)
    monkeypatch.setattr(schedule, "database_now", lambda: start)

    with caplog.at_level(logging.INFO, logger="mentor_status_service.schedule"):
        assert scheduler.run_once() == 0
        assert read(client, record)["state"] == "scheduled"
        assert scheduler.run_once() == 1

    assert read(client, record)["state"] == "active"
    assert "disk on fire" in caplog.text and "tried again" in caplog.text


@pytest.mark.parametrize("in_web, appliers_started", [(True, 1), (False, 0)])
def test_a_served_request_starts_an_applier_unless_schedule_in_web_is_false(configured, monkeypatch, in_web,
                                                                            appliers_started):
    started = []
    monkeypatch.setattr(schedule, "start_in_background", started.append)  # no thread in the test process
    app = configured(SCHEDULE_IN_WEB=in_web)
    schedule.install(app)  # as wsgi.py does

    assert app.test_client().get("/api/v1/mentor-statuses").status_code == 200
    assert len(started) == appliers_started
    # Nor does gunicorn.conf.py's post_worker_init find one to start as a worker boots.
    assert ("pause_schedule" in app.extensions) is in_web


@pytest.mark.parametrize("name, value", [("SCHEDULE_CHECK_S", "0"), ("SCHEDULE_CHECK_S", "3601"),
                                         ("SCHEDULE_CHECK_S", "5s"), ("RETURN_NOTICE_DAYS", "366"),
                                         ("RETURN_NOTICE_DAYS", "-1"), ("PAUSE_AUTO_RETURN", "yes"),
                                         ("SCHEDULE_IN_WEB", "no")])
def test_a_bad_schedule_setting_refuses_to_start_naming_it(monkeypatch, name, value):
    monkeypatch.setenv(name, value)

    with pytest.raises(ConfigurationError, match=name):
        create_app()


def test_a_moment_that_fails_in_a_batch_does_not_keep_the_others_from_being_applied(client, app, monkeypatch,
                                                                                    caplog):
    start = now() + days(1)
    records = []
    for number in range(1, 5):
        create_mentor(client, mentor_id=f"mentor-00{number}")
        records.append(pause(client, mentor_id=f"mentor-00{number}", start_date=start))
    real_apply = moment_rules._apply
    bad = records[1]["pause_record_id"]

    def failing_for_one(record, *args):
        if record.pause_record_id == bad:
            raise RuntimeError("disk on fire")
        return real_apply(record, *args)

    monkeypatch.setattr(moment_rules, "_apply", failing_for_one)

    with caplog.at_level(logging.INFO):
        assert apply_at(app, start) == 3

    assert [read(client, record)["state"] for record in records] == ["active", "scheduled", "active", "active"]
    assert "one by one" in caplog.text and "tried again at the next look" in caplog.text
    assert_consistent(client)
    monkeypatch.setattr(moment_rules, "_apply", real_apply)
    assert apply_at(app, start) == 1
    assert read(client, records[1])["state"] == "active"
    assert [entry["actor"] for entry in history(client, "mentor-002")[:2]] == ["job:schedule"] * 2
