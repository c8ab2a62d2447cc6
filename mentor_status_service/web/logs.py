"""Request ids, one access-log line per request, and the one logging configuration that the service
and gunicorn share: every line to stdout, as text or (LOG_FORMAT=json) one JSON object, each with an
ISO 8601 UTC time."""
import json
import logging
import logging.config
import re
import sys
import time
import uuid
from urllib.parse import quote, unquote_plus

import orjson
from flask import g, has_request_context, request

from .auth import CALENDAR_KEY_PARAMETER, actor

REQUEST_ID_HEADER = "X-Request-ID"
URI_SAFE = "/?&=:@+,;%-._~!$'()*"  # what a path and query keep unencoded; never a space or a control character
_UNCHANGED_BY_QUOTE = re.compile(r"[A-Za-z0-9/?&=:@+,;%\-._~!$'()*]*")
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # C0, DEL, C1 and the two Unicode line separators
_RAW_IN_JSON = re.compile(r"[\x7f-\x9f\u2028\u2029]")
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
SERVICE_LOGGER = "mentor_status_service"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] [%(request_id)s] %(message)s"
ACCESS_MESSAGE = "%(method)s %(path)s %(status)s %(duration_ms).2fms %(actor)s"  # from the keys of access_fields()
access_log = logging.getLogger(f"{SERVICE_LOGGER}.access")


def iso_utc_time(record):
    """`2026-11-29T08:00:00.123Z`: the record's time in UTC, to the millisecond."""
    return "%s.%03dZ" % (_utc_second(int(record.created)), record.msecs)


def _utc_second(second, last=[None, None]):  # noqa: B006 (the one-entry cache: lines come many to a second)
    if last[0] != second:
        last[1] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        last[0] = second
    return last[1]


_trace_id_source = None  # told by tracing.py when traces are exported: the current trace id, or None


def add_trace_ids(source):
    """From now on, every line written while a span is current carries `source()`'s trace id."""
    global _trace_id_source
    _trace_id_source = source


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        record.trace_id = _trace_id_source() if _trace_id_source is not None else None
        return True


def escape_controls(text):
    """`text` with every control character and line separator escaped (`\\n`, `\\x1b`, `\\u2028`),
    so that what a client sent (a decoded path in Flask's "Exception on ...") cannot start a line."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(_escape, text)


def _escape(match):
    character = match.group()
    return _SHORT_ESCAPES.get(character) or (f"\\x{ord(character):02x}" if ord(character) < 0x100
                                             else f"\\u{ord(character):04x}")


class TextFormatter(logging.Formatter):
    """One line per record; only a traceback, which the service writes itself, spans more."""

    def __init__(self):
        super().__init__(TEXT_FORMAT)

    def formatTime(self, record, datefmt=None):
        return iso_utc_time(record)

    def formatMessage(self, record):
        record.message = escape_controls(record.message)
        line = super().formatMessage(record)
        return f"{line} trace_id={record.trace_id}" if getattr(record, "trace_id", None) else line


class JsonFormatter(logging.Formatter):
    """One JSON object per line; an access line adds its `fields` as keys of their own."""

    def format(self, record):
        entry = {"time": iso_utc_time(record), "level": record.levelname, "logger": record.name,
                 "message": record.getMessage(), "pid": record.process, "request_id": record.request_id}
        if getattr(record, "trace_id", None):
            entry["trace_id"] = record.trace_id
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        try:
            line = orjson.dumps(entry).decode()
        except (orjson.JSONEncodeError, TypeError):  # what only the standard library writes (lone surrogates, ...)
            return json.dumps(entry)
        # orjson leaves DEL, C1 controls and U+2028/2029 raw, and some line readers split on them;
        # outside strings a JSON line has none, so escaping them all keeps the same JSON.
        return _RAW_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", line)


def stdout_handler(log_format):
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    return handler


def logging_config(log_format, level, for_gunicorn=False):
    """A `logging.config.dictConfig` dictionary: the service's loggers, and `for_gunicorn` also
    gunicorn's own lines (boot, workers, timeouts) and any other library's (the root logger), all
    through one handler in one format. gunicorn.conf.py passes it as `logconfig_dict`."""
    def through_stdout():
        return {"handlers": ["stdout"], "level": level, "propagate": False}

    config = {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"stdout": {"()": stdout_handler, "log_format": log_format}},
        # app.logger is this logger: Flask logs unhandled errors here.
        "loggers": {SERVICE_LOGGER: through_stdout()},
    }
    if for_gunicorn:
        config["loggers"]["gunicorn.error"] = through_stdout()
        config["loggers"]["gunicorn.access"] = {"handlers": [], "propagate": False}  # the app writes the access line
        config["root"] = {"handlers": ["stdout"], "level": level}
    return config


def configure_logging(app):
    logging.config.dictConfig(logging_config(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"]))
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
        fields = access_fields(response)
        # As access_log.info() would, less looking up the caller's file and line, which no line shows.
        access_log.handle(access_log.makeRecord(access_log.name, logging.INFO, __file__, 0, ACCESS_MESSAGE, (fields,),
                                                None, "finish_request", extra={"fields": fields}))
    return response


def redact_query(path):
    """`path` with the value of every calendar key in its query (however its name was encoded:
    `key`, `k%65y`) replaced by `[redacted]`: a key is a credential, and log lines are read widely."""
    base, mark, query = path.partition("?")
    if not mark or "=" not in query:
        return path
    pairs = []
    for pair in query.split("&"):
        name, equals, _ = pair.partition("=")
        if equals and unquote_plus(name) == CALENDAR_KEY_PARAMETER:
            pair = f"{name}=[redacted]"
        pairs.append(pair)
    return f"{base}?{'&'.join(pairs)}"


def access_fields(response):
    """What an access line says about its request: the text line's words, the JSON line's keys."""
    duration_ms = round((time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000, 2)
    # As the URI was sent (percent-encoded), so a decoded newline cannot forge a log line.
    path = request.full_path.rstrip("?")
    if not _UNCHANGED_BY_QUOTE.fullmatch(path):
        path = quote(path, safe=URI_SAFE)
    path = redact_query(path)
    return {"method": request.method, "path": path, "status": response.status_code, "duration_ms": duration_ms,
            "actor": actor()}
