"""What operators use: the CLI commands, the overdue filter they rely on, and the logs."""
import json
import logging

import pytest
from factories import assert_consistent, create_mentor, get_mentor, mentors_with_active_pause

from mentor_status_service import create_app
from mentor_status_service.pausing.models import MentorStatus, PauseRecord


def seed_due_and_not_due(client):
    create_mentor(client, "overdue", status="paused", pause_start_date="2020-01-01",
                  expected_return_date="2020-02-01", pause_reason="travel")
    create_mentor(client, "due-later", status="paused", pause_start_date="2020-01-01",
                  expected_return_date="2999-01-01")
    create_mentor(client, "open-ended", status="paused", pause_start_date="2020-01-01")
    create_mentor(client, "working")


@pytest.mark.parametrize("overdue, expected", [
    ("true", ["overdue"]),
    ("false", ["due-later", "open-ended", "working"]),
])
def test_overdue_filter_lists_paused_mentors_past_their_expected_return(client, overdue, expected):
    seed_due_and_not_due(client)

    response = client.get("/api/v1/mentor-statuses", query_string={"overdue": overdue})

    assert [m["mentor_id"] for m in response.json["data"]] == expected


def test_overdue_filter_rejects_a_non_boolean(client):
    response = client.get("/api/v1/mentor-statuses", query_string={"overdue": "soon"})

    assert response.status_code == 422
    assert set(response.json["errors"]["query"]) == {"overdue"}


def test_resume_due_dry_run_prints_and_changes_nothing(client, runner):
    seed_due_and_not_due(client)

    result = runner.invoke(args=["resume-due", "--dry-run"])

    assert result.exit_code == 0
    assert "would resume overdue: pause-rec-0001 ended at 2020-02-01T00:00:00Z" in result.output
    assert "1 pause(s) due" in result.output
    assert get_mentor(client, "overdue")["status"] == "paused"


def test_resume_due_ends_overdue_pauses_at_their_expected_return(client, runner):
    seed_due_and_not_due(client)

    result = runner.invoke(args=["resume-due"])

    assert result.exit_code == 0 and "1 pause(s) ended" in result.output
    assert get_mentor(client, "overdue")["status"] == "active"
    record = client.get("/api/v1/pause-records/pause-rec-0001").json
    assert (record["is_active"], record["end_date"]) == (False, "2020-02-01T00:00:00Z")
    assert [get_mentor(client, m)["status"] for m in ("due-later", "open-ended")] == ["paused", "paused"]
    assert_consistent(client)
    assert "0 pause(s) ended" in runner.invoke(args=["resume-due"]).output


def test_demo_data_creates_a_consistent_populated_api(client, runner):
    result = runner.invoke(args=["demo-data", "--mentors", "30", "--seed", "7"])

    assert result.exit_code == 0, result.output
    assert MentorStatus.select().count() == 30 and PauseRecord.select().count() > 0
    statuses = {m.status for m in mentors_with_active_pause()}
    assert statuses == {"active", "inactive", "paused"}
    assert_consistent(client)


def test_demo_data_adds_as_many_mentors_as_asked_beside_existing_ones(client, runner):
    create_mentor(client, "mentor-0001")
    create_mentor(client, "mentor-0002")
    client.delete("/api/v1/mentor-statuses/mentor-0001")

    result = runner.invoke(args=["demo-data", "--mentors", "3", "--seed", "1"])

    assert "created 3 mentors" in result.output
    assert MentorStatus.select().count() == 4
    assert not PauseRecord.select().where(PauseRecord.end_date > PauseRecord.created_at).exists()


@pytest.mark.parametrize("mentors", ["-3", "0"])
def test_demo_data_refuses_fewer_than_one_mentor(client, runner, mentors):
    result = runner.invoke(args=["demo-data", "--mentors", mentors])

    assert result.exit_code == 2 and "--mentors" in result.output
    assert MentorStatus.select().count() == 0


def test_request_id_is_taken_from_a_sane_header_and_returned(client):
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})

    assert response.headers["X-Request-ID"] == "abc-123"


@pytest.mark.parametrize("sent", [None, "", "x" * 200, "bad id with spaces", "id;rm -rf", "\u00e9t\u00e9"])
def test_a_missing_or_unsafe_request_id_is_replaced(client, sent):
    headers = {"X-Request-ID": sent} if sent is not None else {}

    returned = client.get("/healthz", headers=headers).headers["X-Request-ID"]

    assert returned != sent and len(returned) == 32


def test_each_request_writes_one_access_line_with_its_id(client, caplog):
    with caplog.at_level(logging.INFO, logger="mentor_status_service.access"):
        create_mentor(client)
        client.get("/api/v1/mentor-statuses/nobody", headers={"X-Request-ID": "trace-me"})

    lines = [r for r in caplog.records if r.name == "mentor_status_service.access"]
    assert len(lines) == 2
    assert lines[1].getMessage().startswith("GET /api/v1/mentor-statuses/nobody 404 ")
    assert lines[1].request_id == "trace-me" and lines[1].fields["duration_ms"] >= 0


def test_a_newline_in_the_path_cannot_forge_an_access_line(client, caplog):
    with caplog.at_level(logging.INFO, logger="mentor_status_service.access"):
        client.get("/api/v1/mentor-statuses/m1%0Afake%20line")

    [line] = [r.getMessage() for r in caplog.records if r.name == "mentor_status_service.access"]
    assert "\n" not in line and line.startswith("GET /api/v1/mentor-statuses/m1%0Afake%20line 404 ")


def test_json_log_format_writes_one_object_per_line(database_url, capsys, monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "json")
    app = create_app({"DATABASE_URL": database_url})

    app.test_client().get("/healthz", headers={"X-Request-ID": "json-line"})

    [line] = [line for line in capsys.readouterr().out.splitlines() if "json-line" in line]
    entry = json.loads(line)
    assert entry["request_id"] == "json-line" and entry["status"] == 200 and entry["path"] == "/healthz"
    assert entry["method"] == "GET" and "duration_ms" in entry


def test_an_unexpected_error_is_logged_with_its_traceback_and_answered_without_it(database_url, capsys):
    app = create_app({"DATABASE_URL": database_url})

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret detail")

    response = app.test_client().get("/boom", headers={"X-Request-ID": "boom-1"})

    assert response.status_code == 500 and b"secret detail" not in response.data
    output = capsys.readouterr().out
    assert "[boom-1]" in output and "Traceback" in output and "secret detail" in output
