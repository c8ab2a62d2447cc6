"""The pause-record calendar (docs/calendars.md): RFC 5545, read back by two parsers (the `icalendar`
package and ical.js under Node) and checked event by event against the JSON list; SEQUENCE and
LAST-MODIFIED; the reason hidden by default; calendar keys, and a key never in a log line."""
import datetime as dt
import http.client
import json
import shutil
import subprocess
from pathlib import Path

import icalendar
import pytest
import requests
from factories import create_mentor, create_pause
from otlp_receiver import OtlpReceiver
from servers import Gunicorn, reset_postgresql, wait_until

from mentor_status_service import create_app
from mentor_status_service.config import Config, ConfigurationError
from mentor_status_service.db import database, migrate, utc_now

RECORDS = "/api/v1/pause-records"
MENTORS = "/api/v1/mentor-statuses"
JS_DIR = Path(__file__).parent.parent / "js"
KEY = "team-calendar-secret-0123456789"
DAY = dt.timedelta(days=1)


def parse(text):
    return None if text is None else dt.datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=dt.timezone.utc)


def span_end(pause, now):
    end, expected = parse(pause["end_date"]), parse(pause["expected_return_date"])
    if end is None and expected is not None and expected > now:
        return expected
    return end


def calendar_events(body):
    """The events of a calendar, parsed by the icalendar package: {uid: event}."""
    calendar = icalendar.Calendar.from_ical(body)
    assert str(calendar["VERSION"]) == "2.0" and calendar["PRODID"]
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


@pytest.fixture
def calendar_app(database_url):
    """Makes an app with these settings, on empty tables."""
    made = []

    def make(**settings):
        url = database_url
        if database_url.startswith("postgresql"):
            reset_postgresql(database_url)
        else:
            url = database_url.replace("test.db", f"calendar-{len(made)}.db")
        made.append(create_app({"DATABASE_URL": url, "TESTING": True, **settings}))
        migrate()
        return made[-1]

    yield make
    database.close_all()


@pytest.fixture
def pauses(client):
    """Pauses before, around and after now: ended, overdue (no end), due, open, ahead, with reasons."""
    now = utc_now()
    base = (now - 2 * DAY).replace(hour=0, minute=0, second=0)

    def at(days):
        return (base + days * DAY).strftime("%Y-%m-%dT%H:%M:%SZ")

    create_mentor(client, "ended")
    create_pause(client, "ended", start_date=at(-40), end_date=at(-30), reason="personal_leave")
    create_mentor(client, "overdue", status="paused", pause_start_date=at(-20), expected_return_date=at(-5),
                  pause_reason="sick_leave")
    create_mentor(client, "due", status="paused", pause_start_date=at(-10), expected_return_date=at(10),
                  pause_reason="certification_expiry")
    create_mentor(client, "open", status="paused", pause_start_date=at(-3))
    create_mentor(client, "ahead")
    create_pause(client, "ahead", start_date=at(20), end_date=at(30), reason="training")
    return base


def assert_matches_json(events, rows, now, domain="mentor-status.invalid"):
    assert list(events) == [f"{row['pause_record_id']}@{domain}" for row in rows]
    for row in rows:
        event = events[f"{row['pause_record_id']}@{domain}"]
        assert event.decoded("DTSTART") == parse(row["start_date"])
        end = span_end(row, now)
        assert (event.decoded("DTEND") if "DTEND" in event else None) == end, row
        assert str(event["SUMMARY"]) == f"{row['mentor_id']} paused"
        assert isinstance(event.decoded("LAST-MODIFIED"), dt.datetime)
        assert event.decoded("DTSTAMP") == event.decoded("LAST-MODIFIED")


def test_the_calendar_has_one_event_per_listed_pause_as_the_json_list_shows_it(client, pauses):
    now = dt.datetime.now(dt.timezone.utc)
    for query in ({}, {"during": f"{(pauses - 12 * DAY):%Y-%m-%d}/{(pauses + 1 * DAY):%Y-%m-%d}"},
                  {"reason": "training"}, {"is_active": "true", "sort": "-start_date"}, {"mentor_id": "nobody"}):
        response = client.get(RECORDS, query_string={**query, "format": "ics"})
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
        rows = client.get(RECORDS, query_string={**query, "limit": 100}).json["data"]
        assert_matches_json(calendar_events(response.data), rows, now)
        assert response.data.startswith(b"BEGIN:VCALENDAR\r\n") and response.data.endswith(b"END:VCALENDAR\r\n")
    # The overdue pause has no end, the one due back has its expected return as its end.
    events = calendar_events(client.get(RECORDS, query_string={"format": "ics"}).data)
    by_mentor = {str(event["SUMMARY"]).split()[0]: event for event in events.values()}
    assert "DTEND" not in by_mentor["overdue"] and "DTEND" not in by_mentor["open"]
    assert "DTEND" in by_mentor["due"]


def test_accept_text_calendar_asks_for_the_calendar_unpaged(client, pauses):
    response = client.get(RECORDS, query_string={"limit": 1, "page": 2}, headers={"Accept": "text/calendar"})

    assert response.status_code == 200
    assert len(calendar_events(response.data)) == 5
    assert "format=ics" not in response.headers.get("Link", "")


def test_the_reason_shows_nowhere_unless_calendar_show_reason_is_true(calendar_app):
    for show, expected in ((False, "m paused"), (True, "m paused (personal_leave)")):
        client = calendar_app(CALENDAR_SHOW_REASON=show, CALENDAR_DOMAIN="calendar.example.org").test_client()
        create_mentor(client, "m")
        create_pause(client, "m", start_date="2026-01-01", end_date="2026-01-10", reason="personal_leave")
        body = client.get(RECORDS, query_string={"format": "ics"}).data
        [event] = calendar_events(body).values()
        assert str(event["SUMMARY"]) == expected
        assert str(event["UID"]) == "pause-rec-0001@calendar.example.org"
        assert (b"personal_leave" in body) is show


def test_sequence_and_last_modified_move_with_each_change_and_stay_for_an_unchanged_pause(client, database_url):
    create_mentor(client, "a")
    create_mentor(client, "b")
    create_pause(client, "a", start_date="2026-01-01", end_date="2026-01-10")
    create_pause(client, "b", start_date="2026-02-01", end_date="2026-02-10", reason="training")

    def state():
        events = calendar_events(client.get(RECORDS, query_string={"format": "ics"}).data).values()
        return {str(event["UID"]).split("@")[0]: (int(event["SEQUENCE"]), event.decoded("LAST-MODIFIED"),
                                                  event.decoded("DTEND")) for event in events}

    first = state()
    # A PUT that sends what is stored changes nothing; one that moves the end changes the event.
    assert client.put(f"{RECORDS}/pause-rec-0002", json={"reason": "training"}).status_code == 200
    assert client.put(f"{RECORDS}/pause-rec-0001", json={"end_date": "2026-01-12T00:00:00Z"}).status_code == 200
    second = state()
    assert second["pause-rec-0002"] == first["pause-rec-0002"]
    assert second["pause-rec-0001"][0] > first["pause-rec-0001"][0]
    assert second["pause-rec-0001"][1] >= first["pause-rec-0001"][1]
    assert second["pause-rec-0001"][2] == dt.datetime(2026, 1, 12, tzinfo=dt.timezone.utc)
    # Only the reason changes: it does not show, but the pause changed.
    assert client.put(f"{RECORDS}/pause-rec-0001", json={"reason": "other"}).status_code == 200
    third = state()
    assert third["pause-rec-0001"][0] > second["pause-rec-0001"][0]
    assert third["pause-rec-0002"] == first["pause-rec-0002"]


def test_an_active_pause_past_its_expected_return_is_a_later_sequence_with_no_end(client):
    create_mentor(client, "late", status="paused", pause_start_date="2026-01-01", expected_return_date="2026-02-01")

    [event] = calendar_events(client.get(RECORDS, query_string={"format": "ics"}).data).values()

    assert "DTEND" not in event
    assert int(event["SEQUENCE"]) == 1  # twice its version (0), plus one: its span is open since 1 February
    assert event.decoded("LAST-MODIFIED") >= dt.datetime(2026, 2, 1, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="session")
def ical_js():
    """Node and ical.js, installed from tests/js's lock as .ci/run does (npm ci) when not there yet."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node.js and npm are not installed (.ci/run's machine has them)")
    if not (JS_DIR / "node_modules" / "ical.js").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--silent"], cwd=JS_DIR, check=True, timeout=300)

    def parse_with_ical_js(body):
        done = subprocess.run([node, str(JS_DIR / "parse_ics.mjs")], input=body, capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr.decode()
        return json.loads(done.stdout)

    return parse_with_ical_js


def test_ical_js_reads_every_event_as_the_json_list_shows_it(client, pauses, ical_js):
    now = dt.datetime.now(dt.timezone.utc)
    body = client.get(RECORDS, query_string={"format": "ics"}).data
    rows = client.get(RECORDS, query_string={"limit": 100}).json["data"]
    sequences = {str(event["UID"]): int(event["SEQUENCE"]) for event in calendar_events(body).values()}

    parsed = ical_js(body)

    assert parsed["version"] == "2.0"
    assert [event["uid"] for event in parsed["events"]] == [f"{row['pause_record_id']}@mentor-status.invalid"
                                                            for row in rows]
    for event, row in zip(parsed["events"], rows):
        assert event["summary"] == f"{row['mentor_id']} paused"
        assert parse(event["start"]) == parse(row["start_date"])
        assert (parse(event["end"]) if event["end"] else None) == span_end(row, now)
        assert event["sequence"] == sequences[event["uid"]]
        assert event["last_modified"] is not None


# Calendar keys

def keyed_app(calendar_app, **settings):
    return calendar_app(CALENDAR_KEYS=f"team:{KEY},other:another-secret-0123456789", **settings).test_client()


def test_a_calendar_key_stands_in_for_a_read_token_on_the_calendar_only(calendar_app):
    client = keyed_app(calendar_app, API_TOKENS="hr:write:write-secret-0123456789", API_PUBLIC_READS="false")
    assert client.post(MENTORS, json={"mentor_id": "m", "status": "paused"},
                       headers={"Authorization": "Bearer write-secret-0123456789"}).status_code == 201

    assert client.get(RECORDS, query_string={"format": "ics"}).status_code == 401
    calendar = client.get(RECORDS, query_string={"format": "ics", "key": KEY})
    assert calendar.status_code == 200 and len(calendar_events(calendar.data)) == 1
    by_accept = client.get(RECORDS, query_string={"key": KEY}, headers={"Accept": "text/calendar"})
    assert by_accept.status_code == 200
    # On any other request the key is no credential: without a token, 401 as before.
    assert client.get(RECORDS, query_string={"key": KEY}).status_code == 401
    assert client.get(RECORDS, query_string={"key": KEY, "format": "csv"}).status_code == 401


@pytest.mark.parametrize("path", [RECORDS, f"{RECORDS}?format=csv", f"{RECORDS}?format=json", MENTORS,
                                  f"{MENTORS}/m", f"{RECORDS}/pause-rec-0001", f"{MENTORS}/m/history",
                                  "/api/v1/changes", f"/api/v1/mentor-statuses{RECORDS}"])
def test_a_key_on_any_other_request_is_an_unknown_parameter(calendar_app, path):
    client = keyed_app(calendar_app)
    create_mentor(client, "m", status="paused")

    response = client.get(f"{path}{'&' if '?' in path else '?'}key={KEY}")

    assert response.status_code == 422
    assert list(response.json["errors"]["query"]) == ["key"]


def test_a_wrong_key_or_a_key_while_none_is_configured_is_a_401(calendar_app):
    for client, key in ((keyed_app(calendar_app), "not-a-configured-key-0123"), (keyed_app(calendar_app), ""),
                        (calendar_app().test_client(), KEY)):
        response = client.get(RECORDS, query_string={"format": "ics", "key": key})
        assert response.status_code == 401
        assert KEY not in response.text
    client = keyed_app(calendar_app)
    assert client.get(f"{RECORDS}?format=ics&key={KEY}&key={KEY}").status_code == 401
    assert client.get(f"/api/v1/mentor-statuses{RECORDS}?format=ics&key={KEY}").status_code == 200


@pytest.mark.parametrize("entry, problem", [
    ("team", "CALENDAR_KEYS entry 1: not of the form name:secret"),
    ("Team:" + KEY, "CALENDAR_KEYS entry 1: the name"),
    ("team:short", "CALENDAR_KEYS entry 1 (team): the secret must be"),
    (f"team:{KEY},team:{KEY}x", "CALENDAR_KEYS entry 2: the name team is already used by CALENDAR_KEYS entry 1"),
    (f"team:{KEY},other:{KEY}", "CALENDAR_KEYS entry 2: its secret is already used by CALENDAR_KEYS entry 1"),
])
def test_a_malformed_or_duplicate_calendar_key_refuses_to_start_without_showing_a_secret(entry, problem):
    with pytest.raises(ConfigurationError) as refused:
        Config(environ={"CALENDAR_KEYS": entry})

    assert str(refused.value).startswith(problem)
    assert KEY not in str(refused.value) and "short" not in str(refused.value).split(":", 1)[0]


def test_calendar_domain_and_show_reason_refuse_bad_values():
    for environ, name in (({"CALENDAR_DOMAIN": "not a domain"}, "CALENDAR_DOMAIN"),
                          ({"CALENDAR_SHOW_REASON": "yes"}, "CALENDAR_SHOW_REASON")):
        with pytest.raises(ConfigurationError, match=name):
            Config(environ=environ)


def raw_get(port, target):
    """The status of a GET of `target` sent exactly as written."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.mark.slow
def test_the_key_appears_in_no_log_line_metric_nor_trace_and_the_actor_is_the_keys_name(database_url):
    if database_url.startswith("postgresql"):
        reset_postgresql(database_url)
    with OtlpReceiver() as otlp, Gunicorn(database_url, workers=1, env={
            "CALENDAR_KEYS": f"team:{KEY}", "API_PUBLIC_READS": "false",
            "API_TOKENS": "ops:read:read-secret-0123456789", "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100"}) as server:
        base = server.base_url
        assert requests.get(f"{base}{RECORDS}?format=ics&key={KEY}", timeout=10).status_code == 200
        assert raw_get(server.port, f"{RECORDS}?format=ics&k%65y={KEY}") == 200  # requests would decode the name
        assert requests.get(f"{base}{RECORDS}?key={KEY}", timeout=10).status_code == 401
        assert requests.get(f"{base}{RECORDS}?format=ics&key={KEY}x", timeout=10).status_code == 401
        metrics = requests.get(f"{base}/metrics", headers={"Authorization": "Bearer read-secret-0123456789"},
                               timeout=10)
        assert metrics.status_code == 200 and KEY not in metrics.text

        def calendar_spans():
            return [span for span in list(otlp.spans) if span.kind == "SERVER" and span.name.startswith(
                f"GET {RECORDS}") and span.attributes.get("enduser.id") == "calendar:team"]

        wait_until(lambda: len(calendar_spans()) == 2, 30, message="the two calendar requests' spans")
        server.stop()
        output = server.output()

    assert not [span for span in otlp.spans if any(KEY in str(value) for value in span.attributes.values())]
    assert KEY not in output
    calendar_lines = [line for line in output.splitlines() if f"{RECORDS}?format=ics" in line]
    assert len(calendar_lines) == 3
    assert f"GET {RECORDS}?format=ics&key=[redacted] 200" in calendar_lines[0]
    assert " calendar:team" in calendar_lines[0]
    assert f"GET {RECORDS}?format=ics&k%65y=[redacted] 200" in calendar_lines[1]
    assert "key=[redacted] 401" in calendar_lines[2]
