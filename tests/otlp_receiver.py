"""A tiny OTLP/HTTP trace receiver in a thread of the test: it answers POST /v1/traces as a
collector would and keeps every span it got, parsed with opentelemetry-proto. Listens on 127.0.0.1."""
import gzip
import threading
from typing import NamedTuple

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from servers import HttpReceiver, wait_until


class ReceivedSpan(NamedTuple):
    trace_id: str  # 32 hex digits
    span_id: str  # 16 hex digits
    parent_span_id: str  # 16 hex digits, or "" for a root span
    name: str
    kind: str  # SERVER, CLIENT, INTERNAL, ...
    attributes: dict
    service_name: str


def _value(any_value):
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def _attributes(key_values):
    return {item.key: _value(item.value) for item in key_values}


class OtlpReceiver(HttpReceiver):
    def __init__(self):
        super().__init__()
        self.spans = []
        self.requests = 0
        self._lock = threading.Lock()
        self.endpoint = self.url

    def handle(self, handler):
        body = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
        if handler.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self._keep(handler.path, handler.headers.get("Content-Type"), body)
        answer = ExportTraceServiceResponse().SerializeToString()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/x-protobuf")
        handler.send_header("Content-Length", str(len(answer)))
        handler.end_headers()
        handler.wfile.write(answer)

    def _keep(self, path, content_type, body):
        assert path == "/v1/traces" and content_type == "application/x-protobuf", (path, content_type)
        request = ExportTraceServiceRequest.FromString(body)
        spans = []
        for resource_spans in request.resource_spans:
            service = _attributes(resource_spans.resource.attributes).get("service.name")
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    spans.append(ReceivedSpan(span.trace_id.hex(), span.span_id.hex(), span.parent_span_id.hex(),
                                              span.name, Span.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
                                              _attributes(span.attributes), service))
        with self._lock:
            self.requests += 1
            self.spans += spans

    def wait_for(self, predicate, timeout=30, message="spans"):
        """The spans that satisfy `predicate`, once there is at least one."""
        def found():
            with self._lock:
                return [span for span in self.spans if predicate(span)]

        return wait_until(found, timeout, interval=0.05, message=message)
