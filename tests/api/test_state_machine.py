"""Random sequences of writes through the API, with the consistency invariant (docs/api.md)
checked in the database after every step (and through the API), on both backends.

Hypothesis drives a state machine over a small pool of mentor ids so that writes collide: create
(maybe paused), PUT status and pause fields, POST active and past pauses, close, reopen, change and
delete records, delete mentors. Every response must be one of the codes the rules allow (never a
5xx); after every step the tables must satisfy the invariant, and replaying the whole change feed
must rebuild exactly what the two lists show.
"""
import datetime as dt
import os

import hypothesis
import pytest
from factories import mentors_with_active_pause
from feed_replay import follow_feed, listed_state, replayed_state
from hypothesis import HealthCheck
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from servers import api_invariant_violations, table_violations

from mentor_status_service.changes.models import ChangeEntry
from mentor_status_service.db import database
from mentor_status_service.pausing.models import MentorStatus, PauseRecord

MENTOR_IDS = ["mentor-a", "mentor-b", "mentor-c"]
DATES = st.sampled_from(["2026-01-01", "2026-03-01T09:30:00Z", "2026-06-15T12:00:00+02:00", "2026-12-31T23:59:59",
                         "2027-02-01T00:00:00Z", "2025-07-01T00:00:00-05:00"])


def instant(text):
    """One of DATES as the service reads it: naive UTC."""
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo is None else moment.astimezone(dt.timezone.utc).replace(tzinfo=None)


REASONS = st.sampled_from(["personal_leave", "certification_expiry", "travel"])
MENTOR_CHANGES = st.fixed_dictionaries({}, optional={
    "status": st.sampled_from(["active", "paused", "inactive"]),
    "is_paused": st.booleans(),
    "pause_start_date": st.none() | DATES,
    "expected_return_date": st.none() | DATES,
    "pause_reason": st.none() | REASONS,
    "metadata": st.dictionaries(st.sampled_from(["notes", "initiated_by"]), st.text(max_size=5), max_size=2),
})
RECORD_CHANGES = st.fixed_dictionaries({}, optional={
    "is_active": st.booleans(),
    "end_date": st.none() | DATES,
    "start_date": DATES,
    "expected_return_date": st.none() | DATES,
    "reason": st.none() | REASONS,
})
SETTINGS = hypothesis.settings(
    max_examples=int(os.environ.get("STATE_MACHINE_EXAMPLES", "25")), stateful_step_count=20, deadline=None,
    database=None, derandomize=not os.environ.get("FUZZ_RANDOM"), suppress_health_check=list(HealthCheck),
    print_blob=False)
STEPS = {"requests": 0}


def make_machine(client):
    class PausingMachine(RuleBasedStateMachine):
        """`self.mentors` is what the API has told us exists; the database must agree after every step."""

        @initialize()
        def empty_tables(self):
            with database.atomic():
                PauseRecord.delete().execute()
                MentorStatus.delete().execute()
                ChangeEntry.delete().execute()
                database.execute_sql("UPDATE list_totals SET mentors_active = 0, mentors_inactive = 0, "
                                     "pauses_active = 0, pauses_ended = 0, pauses_scheduled = 0")
                database.execute_sql("DELETE FROM list_totals_delta")
            self.mentors = set()

        def send(self, method, path, body=None, allowed=()):
            STEPS["requests"] += 1
            response = client.open(path, method=method, json=body)
            assert response.status_code < 500, (method, path, body, response.json)
            assert response.status_code in allowed, (method, path, body, response.status_code, response.json)
            assert response.is_json and b"Traceback" not in response.data
            return response

        def record_ids(self):
            return [record.pause_record_id for record in PauseRecord.select().order_by(PauseRecord.id)]

        def pick_record(self, index):
            ids = self.record_ids()
            # Past the end: an id that does not exist (or one the server would never write).
            return ids[index] if index < len(ids) else ["pause-rec-9999", "pause-rec-1"][index % 2]

        @rule(mentor_id=st.sampled_from(MENTOR_IDS), changes=MENTOR_CHANGES)
        def create_mentor(self, mentor_id, changes):
            response = self.send("POST", "/api/v1/mentor-statuses", {"mentor_id": mentor_id, **changes},
                                 allowed=(201, 409, 422))
            if mentor_id in self.mentors:
                assert response.status_code in (409, 422)
            if response.status_code == 201:
                assert mentor_id not in self.mentors
                self.mentors.add(mentor_id)
                assert response.json["is_paused"] == (response.json["status"] == "paused")

        @rule(mentor_id=st.sampled_from(MENTOR_IDS), changes=MENTOR_CHANGES)
        def update_mentor(self, mentor_id, changes):
            response = self.send("PUT", f"/api/v1/mentor-statuses/{mentor_id}", changes, allowed=(200, 404, 422))
            assert response.status_code in ((404, 422) if mentor_id not in self.mentors else (200, 422))
            if response.status_code == 200 and "status" in changes:
                assert response.json["status"] == changes["status"]
            if response.status_code == 200 and response.json["status"] != "paused":
                assert response.json["pause_start_date"] is None

        @rule(mentor_id=st.sampled_from(MENTOR_IDS), past=st.booleans(), start=st.none() | DATES,
              end=DATES, reason=st.none() | REASONS)
        def create_pause(self, mentor_id, past, start, end, reason):
            body = {"mentor_id": mentor_id, "reason": reason}
            if start:
                body["start_date"] = start
            if past:
                body["end_date"] = end
            was_paused = mentor_id in self.mentors and mentors_with_active_pause().where(
                MentorStatus.mentor_id == mentor_id).first().is_paused
            # The state its dates give (DATES lie far enough from now for a second not to matter).
            now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
            state = "scheduled" if start and instant(start) > now else (
                "ended" if past and instant(end) <= now else "active")
            response = self.send("POST", "/api/v1/pause-records", body, allowed=(201, 409, 422))
            if mentor_id not in self.mentors:
                assert response.status_code == 422
            elif state == "active" and was_paused:
                assert response.status_code in (409, 422)
            if response.status_code == 201:
                assert (response.json["state"], response.json["is_active"]) == (state, state == "active")

        @rule(index=st.integers(0, 8), changes=RECORD_CHANGES)
        def update_record(self, index, changes):
            record_id = self.pick_record(index)
            before = PauseRecord.get_or_none(PauseRecord.id == (PauseRecord.number_from_public_id(record_id) or 0))
            response = self.send("PUT", f"/api/v1/pause-records/{record_id}", changes, allowed=(200, 404, 409, 422))
            # Unknown record: 404, unless the body is invalid anyway (validation comes first).
            assert response.status_code in ((404, 422) if before is None else (200, 409, 422))
            if response.status_code == 200:
                mentor = client.get(f"/api/v1/mentor-statuses/{before.mentor_id}").json
                if response.json["is_active"]:  # opened, or still open: the mentor is paused with its fields
                    assert mentor["status"] == "paused"
                    assert mentor["pause_start_date"] == response.json["start_date"]
                    assert mentor["expected_return_date"] == response.json["expected_return_date"]
                    assert mentor["pause_reason"] == response.json["reason"]
                elif before.is_active:  # closed the active pause: the mentor is back
                    assert mentor["status"] == "active"

        @rule(index=st.integers(0, 8))
        def delete_record(self, index):
            record_id = self.pick_record(index)
            before = PauseRecord.get_or_none(PauseRecord.id == (PauseRecord.number_from_public_id(record_id) or 0))
            response = self.send("DELETE", f"/api/v1/pause-records/{record_id}", allowed=(200, 404))
            assert (response.status_code == 200) == (before is not None)
            if before is not None and before.is_active:
                assert client.get(f"/api/v1/mentor-statuses/{before.mentor_id}").json["status"] == "active"

        @rule(mentor_id=st.sampled_from(MENTOR_IDS))
        def delete_mentor(self, mentor_id):
            response = self.send("DELETE", f"/api/v1/mentor-statuses/{mentor_id}", allowed=(200, 404))
            assert (response.status_code == 200) == (mentor_id in self.mentors)
            self.mentors.discard(mentor_id)

        @invariant()
        def tables_hold_the_invariant(self):
            if not hasattr(self, "mentors"):
                return
            assert table_violations(database) == []
            assert {mentor.mentor_id for mentor in MentorStatus.select()} == self.mentors

        @invariant()
        def api_holds_the_invariant(self):
            if not hasattr(self, "mentors"):
                return
            assert api_invariant_violations(get_json) == []

        @invariant()
        def replaying_the_feed_rebuilds_the_lists(self):
            if not hasattr(self, "mentors"):
                return
            assert replayed_state(follow_feed(get_json, limit=7)) == listed_state(get_json)

    def get_json(path, params):
        response = client.get(path, query_string=params)
        assert response.status_code == 200, response.json
        return response.json

    return PausingMachine


def test_random_writes_keep_the_invariant(client):
    run_state_machine_as_test(make_machine(client), settings=SETTINGS)


@pytest.fixture(scope="module", autouse=True)
def report_requests_sent():
    yield
    print(f"\nstate machine: {STEPS['requests']} write requests checked")
