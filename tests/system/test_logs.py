"""One logging configuration for the service and gunicorn: every line, gunicorn's own included, in
the chosen format with an ISO 8601 UTC time to the millisecond."""
import json
import os
import re
import signal

import pytest
import requests
from servers import Gunicorn, wait_until

from mentor_status_service import create_app

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
TEXT_LINE = re.compile(rf"({ISO_UTC.pattern}) (DEBUG|INFO|WARNING|ERROR|CRITICAL) (\S+) \[(\d+)\] \[(\S+)\] (.*)")


def test_text_lines_start_with_an_iso_8601_utc_time(database_url, capsys, monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "text")
    app = create_app({"DATABASE_URL": database_url})

    app.test_client().get("/healthz", headers={"X-Request-ID": "text-line"})

    [line] = [line for line in capsys.readouterr().out.splitlines() if "text-line" in line]
    time, level, logger, pid, request_id, message = TEXT_LINE.fullmatch(line).groups()
    assert (level, logger, int(pid), request_id) == ("INFO", "mentor_status_service.access", os.getpid(), "text-line")
    assert message.startswith("GET /healthz 200 ")


def test_json_lines_carry_an_iso_8601_utc_time_level_and_logger(database_url, capsys, monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "json")
    app = create_app({"DATABASE_URL": database_url})

    app.test_client().get("/healthz", headers={"X-Request-ID": "json-line"})

    [entry] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "json-line" in line]
    assert ISO_UTC.fullmatch(entry["time"])
    assert {key: entry[key] for key in ("level", "logger", "message", "request_id", "method", "path", "status")} == {
        "level": "INFO", "logger": "mentor_status_service.access", "message": entry["message"],
        "request_id": "json-line", "method": "GET", "path": "/healthz", "status": 200}
    assert entry["message"].startswith("GET /healthz 200 ") and entry["duration_ms"] >= 0


def run_gunicorn_and_read_its_output(tmp_path, log_format):
    """Boot, a few requests, a worker killed and replaced, a shutdown: gunicorn's lines and the service's."""
    with Gunicorn(f"sqlite:///{tmp_path}/logs.db", workers=2, env={"LOG_FORMAT": log_format}) as server:
        requests.post(f"{server.base_url}/api/v1/mentor-statuses", json={"mentor_id": "mentor-001"}, timeout=10)
        requests.get(f"{server.base_url}/api/v1/mentor-statuses/nobody", headers={"X-Request-ID": "logged-404"},
                     timeout=10)
        killed = server.worker_pids()[0]
        os.kill(killed, signal.SIGKILL)
        wait_until(lambda: killed not in server.worker_pids() and len(server.worker_pids()) == 2, 30,
                   message="gunicorn to replace the killed worker")
        server.stop()
        return server.output().splitlines(), server.process.pid, killed


@pytest.mark.slow
def test_every_gunicorn_and_service_line_is_json_under_log_format_json(tmp_path):
    lines, master_pid, killed = run_gunicorn_and_read_its_output(tmp_path, "json")

    entries = []
    for line in lines:
        entry = json.loads(line)  # every line, gunicorn's own included
        assert ISO_UTC.fullmatch(entry["time"]) and entry["level"] and entry["logger"] and "message" in entry, line
        entries.append(entry)
    said = {(entry["logger"], entry["message"]) for entry in entries}
    assert ("gunicorn.error", "Starting gunicorn 27.0.1") in said
    assert ("gunicorn.error", f"Worker (pid:{killed}) was sent SIGKILL! Perhaps out of memory?") in said
    assert ("gunicorn.error", "Shutting down: Master") in said
    migrated = [entry for entry in entries if entry["message"].startswith("migrations applied")]
    assert len(migrated) == 1 and migrated[0]["pid"] == master_pid
    [not_found] = [entry for entry in entries if entry.get("request_id") == "logged-404"]
    assert (not_found["method"], not_found["path"], not_found["status"]) == (
        "GET", "/api/v1/mentor-statuses/nobody", 404) and not_found["duration_ms"] >= 0


@pytest.mark.slow
def test_every_gunicorn_and_service_line_has_the_same_text_shape(tmp_path):
    lines, master_pid, killed = run_gunicorn_and_read_its_output(tmp_path, "text")

    assert lines and [line for line in lines if not TEXT_LINE.fullmatch(line)] == []
    assert any(f"ERROR gunicorn.error [{master_pid}] [-] Worker (pid:{killed}) was sent SIGKILL!" in line
               for line in lines)


FORGED = "2026-01-01T00:00:00.000Z INFO mentor_status_service.access [1] [-] forged"


@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.parametrize("breaker", ["%0A", "%0D", "%0D%0A", "%E2%80%A8", "%C2%85", "%0B", "%1B[2J"])
def test_a_client_cannot_start_a_log_line_through_an_error_message(database_url, capsys, monkeypatch, log_format,
                                                                    breaker):
    monkeypatch.setenv("LOG_FORMAT", log_format)
    app = create_app({"DATABASE_URL": database_url})

    def fail(rest):
        raise RuntimeError("a view that fails")

    app.add_url_rule("/fails/<rest>", "fails", fail)  # test-only: Flask logs "Exception on <decoded path>"
    capsys.readouterr()

    response = app.test_client().get(f"/fails/x{breaker}{FORGED.replace(' ', '%20')}")

    assert response.status_code == 500 and response.json["code"] == 500
    output = capsys.readouterr().out
    assert "Exception on /fails/x" in output
    lines = output.splitlines()  # every line break Python knows: \n, \r, \v, \x1c-\x1e, \x85, U+2028, U+2029
    assert [line for line in lines if line.startswith(FORGED[:20])] == []
    assert not any(character in output for character in "\r\x0b\x1b\x85\u2028")
    if log_format == "json":
        assert all(json.loads(line)["level"] for line in lines if line.startswith("{"))
