"""Traces over OTLP/HTTP (protobuf), when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.

What is traced: a SERVER span per request (route template, status, the actor as `enduser.id`; an
incoming `traceparent` is continued), a CLIENT span per database statement (the psycopg2 and
sqlite3 instrumentations, which wrap the drivers' `connect`, so Peewee's pooled connections are
traced from their first), a span per webhook delivery attempt, whose `traceparent` goes out with
it, and one per pause that `resume-due` ends at its expected return date. Log lines written while
a span is current carry its `trace_id`. The OpenTelemetry SDK reads its own variables
(`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_TRACES_SAMPLER`,
`OTEL_PYTHON_FLASK_EXCLUDED_URLS`, ...).

The SDK's batch span processor runs an export thread, which a fork does not carry over: the
provider is made in each process that exports, after it is forked (gunicorn.conf.py's `post_fork`
for web workers; the `webhooks deliver` and `resume-due` commands for theirs), never in gunicorn's
master. Unset, nothing of OpenTelemetry is imported and no request does any work for it.
"""
import logging
import os
from contextlib import contextmanager

from flask import request

from . import auth, logs

logger = logging.getLogger(__name__)

DEFAULT_SERVICE_NAME = "mentor-status-service"
_started_in_pid = None  # the process whose provider exports; a forked child starts its own


def start_tracing(enabled):
    """Make this process's tracer provider and instrument the database drivers, once per process;
    nothing unless `enabled` (the TRACING setting)."""
    global _started_in_pid
    if not enabled or _started_in_pid == os.getpid():
        return
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.psycopg2 import Psycopg2Instrumentor
    from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    named = "OTEL_SERVICE_NAME" in os.environ or "service.name=" in os.environ.get("OTEL_RESOURCE_ATTRIBUTES", "")
    provider = TracerProvider(resource=Resource.create({} if named else {"service.name": DEFAULT_SERVICE_NAME}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    # psycopg2-binary provides the psycopg2 module the instrumentation's dependency check looks for by name.
    Psycopg2Instrumentor().instrument(skip_dep_check=True)
    SQLite3Instrumentor().instrument()
    logs.add_trace_ids(current_trace_id)
    _started_in_pid = os.getpid()
    logger.info("exporting traces over OTLP/HTTP to %s", os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
                or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def stop_tracing():
    """Send the spans still buffered (a process about to exit)."""
    if _started_in_pid != os.getpid():
        return
    from opentelemetry import trace

    trace.get_tracer_provider().shutdown()


def init_app(app):
    """A SERVER span per request when traces are on. Called first in the app factory, so that the
    span starts before any other hook runs (the rate limit, auth) and ends after every one."""
    if not app.config["TRACING"]:
        return
    from opentelemetry.instrumentation.flask import FlaskInstrumentor

    FlaskInstrumentor.instrument_app(app)
    app.after_request(name_the_actor)


def name_the_actor(response):
    from opentelemetry import trace

    span = trace.get_current_span()
    span.set_attribute("enduser.id", auth.actor())
    if auth.CALENDAR_KEY_PARAMETER in request.args:
        redact_calendar_key(span)
    return response


# Where the instrumentation puts the URL or its query, in the old and the new semantic conventions.
_URL_ATTRIBUTES = ("http.target", "http.url", "url.full", "url.query")


def redact_calendar_key(span):
    """A calendar key is a credential: the span's URL shows `key=[redacted]`, as the access log does."""
    for name, value in dict(getattr(span, "attributes", None) or {}).items():
        if name in _URL_ATTRIBUTES and isinstance(value, str):
            span.set_attribute(name, logs.redact_query(value) if name != "url.query" else
                               logs.redact_query(f"?{value}")[1:])


def current_trace_id():
    """The current span's trace id, 32 hex digits, or None outside any span."""
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


class _Untraced:
    headers = {}

    def answered(self, status_code, error):
        pass


class _DeliveryTrace:
    def __init__(self, span, headers):
        self.span = span
        self.headers = headers

    def answered(self, status_code, error):
        from opentelemetry.trace import Status, StatusCode

        if status_code is not None:
            self.span.set_attribute("http.response.status_code", status_code)
        if error is not None:
            self.span.set_status(Status(StatusCode.ERROR, str(error)[:200]))


@contextmanager
def delivery_span(webhook_id, change_id, attempt):
    """A CLIENT span around one webhook delivery attempt; its `.headers` (the `traceparent`) go out
    with the request. Without traces, an object whose headers are empty and that records nothing."""
    if _started_in_pid != os.getpid():
        yield _Untraced()
        return
    from opentelemetry import propagate, trace

    tracer = trace.get_tracer(__name__)
    attributes = {"webhook.id": webhook_id, "webhook.change_id": change_id, "webhook.attempt": attempt,
                  "http.request.method": "POST"}
    with tracer.start_as_current_span("webhook delivery", kind=trace.SpanKind.CLIENT, attributes=attributes) as span:
        headers = {}
        propagate.inject(headers)
        yield _DeliveryTrace(span, headers)


@contextmanager
def scheduled_moment_span(record):
    """A span around applying one scheduled moment (`resume-due` ending the pause `record` at its
    expected return date); nothing without traces."""
    if _started_in_pid != os.getpid():
        yield
        return
    from opentelemetry import trace

    attributes = {"pause_record.id": record.pause_record_id, "mentor.id": record.mentor_id,
                  "enduser.id": "job:resume-due"}
    with trace.get_tracer(__name__).start_as_current_span("resume-due pause", attributes=attributes):
        yield
