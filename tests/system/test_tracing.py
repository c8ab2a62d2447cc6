"""Traces: with OTEL_EXPORTER_OTLP_ENDPOINT set, gunicorn's workers and the delivery process export
spans over OTLP/HTTP to a receiver the test runs; unset, nothing of OpenTelemetry is even loaded."""
import json
import os
import re
import secrets
import subprocess
import sys

import pytest
import requests
from otlp_receiver import OtlpReceiver
from servers import REPO_ROOT, Gunicorn, reset_postgresql
from webhook_receivers import DeliveryProcess, Receiver

from mentor_status_service import create_app
from mentor_status_service.config import Config, ConfigurationError
from mentor_status_service.web import logs

WRITE_SECRET = "write-secret-0123456789"
ADMIN_SECRET = "admin-secret-0123456789"
TOKENS = f"hr-sync:write:{WRITE_SECRET},root:admin:{ADMIN_SECRET}"
# Spans leave a process within a tenth of a second, not the SDK's default five.
FAST_EXPORT = {"OTEL_BSP_SCHEDULE_DELAY": "100"}


def traceparent():
    """A W3C traceparent from an imaginary caller: (header, its trace id, its span id)."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


@pytest.fixture
def served_database(database_url):
    if database_url.startswith("postgresql"):
        reset_postgresql(database_url)
    return database_url


def statement(span):
    return span.attributes.get("db.statement") or span.attributes.get("db.query.text") or ""


@pytest.mark.slow
def test_a_request_is_a_server_span_continuing_its_traceparent_with_a_span_per_statement(served_database):
    header, trace_id, caller_span_id = traceparent()
    with OtlpReceiver() as otlp, Gunicorn(served_database, workers=2, env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint, "API_TOKENS": TOKENS, **FAST_EXPORT}) as server:
        api = f"{server.base_url}/api/v1/mentor-statuses"
        auth = {"Authorization": f"Bearer {WRITE_SECRET}"}
        assert requests.post(api, json={"mentor_id": "mentor-001"}, headers=auth, timeout=10).status_code == 201

        read = requests.get(f"{api}/mentor-001", headers={**auth, "traceparent": header}, timeout=10)

        assert read.status_code == 200
        [request_span] = otlp.wait_for(lambda span: span.trace_id == trace_id and span.kind == "SERVER",
                                       message="the request's span")
        statements = otlp.wait_for(lambda span: span.parent_span_id == request_span.span_id,
                                   message="its statements' spans")
        log = server.output()

    assert request_span.parent_span_id == caller_span_id
    assert request_span.attributes["http.route"] == "/api/v1/mentor-statuses/<mentor_id>"
    assert request_span.name == "GET /api/v1/mentor-statuses/<mentor_id>"
    assert (request_span.attributes.get("http.response.status_code")
            or request_span.attributes.get("http.status_code")) == 200
    assert request_span.attributes["enduser.id"] == "hr-sync"
    assert request_span.service_name == "mentor-status-service"
    backend = "postgresql" if served_database.startswith("postgresql") else "sqlite"
    assert all(span.kind == "CLIENT" and span.trace_id == trace_id for span in statements)
    assert any(span.attributes.get("db.system") == backend and 'FROM "mentor_status"' in statement(span)
               for span in statements), statements
    [access_line] = [line for line in log.splitlines() if "GET /api/v1/mentor-statuses/mentor-001 200" in line]
    assert access_line.endswith(f"trace_id={trace_id}")
    # Lines written outside any span (gunicorn's own) carry none.
    assert not any("trace_id=" in line for line in log.splitlines() if "Booting worker" in line)


@pytest.mark.slow
def test_a_webhook_delivery_is_a_span_whose_traceparent_the_receiver_gets(database_url, app):
    api = create_app({"DATABASE_URL": database_url, "TESTING": True, "API_TOKENS": TOKENS,
                      "WEBHOOK_ALLOW_HTTP": True, "WEBHOOK_ALLOW_PRIVATE": True}).test_client()
    admin = {"Authorization": f"Bearer {ADMIN_SECRET}"}
    with OtlpReceiver() as otlp, Receiver(lambda received: 204) as receiver, \
            DeliveryProcess(database_url, OTEL_EXPORTER_OTLP_ENDPOINT=otlp.endpoint, **FAST_EXPORT):
        created = api.post("/api/v1/webhooks", json={"url": receiver.url + "/hooks"}, headers=admin)
        assert created.status_code == 201, created.json
        assert api.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-001"},
                        headers={"Authorization": f"Bearer {WRITE_SECRET}"}).status_code == 201
        [delivered] = receiver.wait_for(1)
        match = re.fullmatch(r"00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}", delivered.headers["traceparent"])
        assert match, delivered.headers["traceparent"]
        trace_id, span_id = match.groups()
        [delivery] = otlp.wait_for(lambda span: span.span_id == span_id, message="the delivery's span")
        recorded = otlp.wait_for(lambda span: span.parent_span_id == span_id, message="its statements' spans")

    assert (delivery.trace_id, delivery.kind, delivery.name) == (trace_id, "CLIENT", "webhook delivery")
    assert delivery.attributes["webhook.id"] == created.json["webhook_id"]
    assert delivery.attributes["http.response.status_code"] == 204
    assert all(span.trace_id == trace_id for span in recorded)


def test_without_the_endpoint_nothing_of_opentelemetry_is_loaded_nor_any_trace_id_logged(tmp_path):
    """In a fresh interpreter, as gunicorn's worker would be: requests served, no module of it imported."""
    script = (
        "import sys\n"
        "from mentor_status_service import create_app\n"
        "from mentor_status_service.db import migrate\n"
        f"app = create_app({{'DATABASE_URL': 'sqlite:///{tmp_path}/t.db'}})\n"
        "migrate()\n"
        "client = app.test_client()\n"
        "assert client.post('/api/v1/mentor-statuses', json={'mentor_id': 'm-1'}).status_code == 201\n"
        "assert client.get('/api/v1/mentor-statuses/m-1', headers={'traceparent': '00-' + '1' * 32 + '-' + "
        "'2' * 16 + '-01'}).status_code == 200\n"
        "print('loaded:', sorted(name for name in sys.modules if name.startswith('opentelemetry')))\n"
    )
    env = {name: value for name, value in os.environ.items() if not name.startswith("OTEL_")}
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                          timeout=60)

    assert done.returncode == 0, done.stderr
    assert "loaded: []" in done.stdout
    assert "GET /api/v1/mentor-statuses/m-1 200" in done.stdout and "trace_id" not in done.stdout


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_lines_written_in_a_span_carry_its_trace_id_in_either_format(database_url, capsys, monkeypatch, log_format):
    monkeypatch.setenv("LOG_FORMAT", log_format)
    app = create_app({"DATABASE_URL": database_url})
    in_span = {"now": True}
    logs.add_trace_ids(lambda: "4bf92f3577b34da6a3ce929d0e0e4736" if in_span["now"] else None)
    try:
        app.test_client().get("/healthz", headers={"X-Request-ID": "in-a-span"})
        in_span["now"] = False
        app.test_client().get("/healthz", headers={"X-Request-ID": "in-no-span"})
    finally:
        logs.add_trace_ids(None)

    lines = capsys.readouterr().out.splitlines()
    [traced] = [line for line in lines if "in-a-span" in line]
    [untraced] = [line for line in lines if "in-no-span" in line]
    if log_format == "json":
        assert json.loads(traced)["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
        assert "trace_id" not in json.loads(untraced)
    else:
        assert traced.endswith(" trace_id=4bf92f3577b34da6a3ce929d0e0e4736")
        assert "trace_id" not in untraced


def test_the_endpoint_turns_traces_on_and_a_bad_value_refuses_to_start():
    assert Config({}).TRACING is False
    assert Config({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}).TRACING is True
    assert Config({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://collector/v1/traces"}).TRACING is True
    assert Config({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}).TRACING \
        is False
    with pytest.raises(ConfigurationError, match="OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL"):
        Config({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317"})
    with pytest.raises(ConfigurationError, match="OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf"):
        Config({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})


@pytest.mark.slow
def test_each_pause_resume_due_ends_is_a_span_around_its_statements(database_url, client):
    for number, expected_back in ((1, "2020-02-01"), (2, "2020-03-01")):
        assert client.post("/api/v1/mentor-statuses", json={
            "mentor_id": f"mentor-{number:03d}", "status": "paused", "pause_start_date": "2020-01-01",
            "expected_return_date": expected_back, "pause_reason": "travel"}).status_code == 201
    env = {**os.environ, "DATABASE_URL": database_url, **FAST_EXPORT}
    with OtlpReceiver() as otlp:
        done = subprocess.run(["flask", "--app", "wsgi", "resume-due"], cwd=REPO_ROOT, capture_output=True, text=True,
                              env={**env, "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint}, timeout=60)
        assert done.returncode == 0, done.stderr
        moments = otlp.wait_for(lambda span: span.name == "resume-due pause", message="the moments' spans")
        statements = otlp.wait_for(lambda span: span.parent_span_id in {moment.span_id for moment in moments}
                                   and "UPDATE" in statement(span).upper(), message="their statements' spans")

    assert sorted(moment.attributes["mentor.id"] for moment in moments) == ["mentor-001", "mentor-002"]
    assert {moment.attributes["enduser.id"] for moment in moments} == {"job:resume-due"}
    assert {span.trace_id for span in statements} <= {moment.trace_id for moment in moments}
    assert "2 pause(s) ended" in done.stdout
