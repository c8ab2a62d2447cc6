"""Request ids and one access-log line per request, as text or (LOG_FORMAT=json) JSON, to stdout."""
import json
import logging
import re
import sys
import time
import uuid
from urllib.parse import quote

from flask import g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
URI_SAFE = "/?&=:@+,;%-._~!$'()*"  # what a path and query keep unencoded; never a space or a control character
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
access_log = logging.getLogger("mentor_status_service.access")


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {"time": self.formatTime(record), "level": record.levelname, "logger": record.name,
                 "message": record.getMessage(), "request_id": record.request_id}
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(app):
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(RequestIdFilter())
    if app.config["LOG_FORMAT"] == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    package_logger = logging.getLogger("mentor_status_service")
    package_logger.handlers[:] = [handler]
    package_logger.setLevel(app.config["LOG_LEVEL"])
    package_logger.propagate = False  # app.logger is this logger: Flask logs unhandled errors here
    app.before_request(start_request)
    app.after_request(finish_request)


def start_request():
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = sent if _SANE_REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex
    g.request_started = time.perf_counter()


def finish_request(response):
    request_id = g.get("request_id") or uuid.uuid4().hex
    response.headers[REQUEST_ID_HEADER] = request_id
    if access_log.isEnabledFor(logging.INFO):
        duration_ms = round((time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000, 2)
        # As the URI was sent (percent-encoded), so a decoded newline cannot forge a log line.
        path = quote(request.full_path.rstrip("?"), safe=URI_SAFE)
        fields = {"method": request.method, "path": path, "status": response.status_code,
                  "duration_ms": duration_ms}
        access_log.info("%(method)s %(path)s %(status)s %(duration_ms).2fms", fields, extra={"fields": fields})
    return response
