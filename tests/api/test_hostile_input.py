"""Hostile and odd input on both backends: oversized and malformed bodies, deep nesting, every
Unicode plane, injection-shaped ids and filters, wrong JSON types. Never a 500, never a
traceback or SQL in the answer, always JSON with `X-Content-Type-Options: nosniff`."""
import http.client
import json
import re

import pytest
import requests
from factories import create_mentor, create_pause, get_mentor
from servers import Gunicorn

from mentor_status_service.pausing.models import MentorStatus, PauseRecord
from mentor_status_service.web.schemas import MENTOR_ID_PATTERN

MENTORS = "/api/v1/mentor-statuses"
RECORDS = "/api/v1/pause-records"
# Signs of a stack trace or of the SQL the service runs (ids sent are echoed in 404 messages, so
# bare SQL words alone prove nothing).
LEAKS = ("Traceback", 'File "', "psycopg", "sqlite3", "peewee", "OperationalError", "IntegrityError",
         '"mentor_status"', '"pause_record"', '"t1"', "LIMIT %s", "LIMIT ?")
TRIED = {"inputs": 0}

MENTOR_ID = re.compile(MENTOR_ID_PATTERN)
INJECTIONS = [
    "'; DROP TABLE mentor_status; --",
    "1' OR '1'='1",
    "mentor-001' --",
    '" OR ""="',
    "mentor-001; SELECT pg_sleep(5)",
    "%' OR 1=1 --",
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "....//....//etc/passwd",
    "%00",
    "\x00",
    "mentor-001\x00",
    "${jndi:ldap://127.0.0.1/a}",
    "<script>alert(1)</script>",
    "mentor-001\r\nX-Injected: 1",
    "*",
    "pause-rec-0001 OR 1=1",
    "pause-rec-0001'",
    "pause-rec-99999999999999999999999",
    "pause-rec-" + "9" * 500,
]
MALFORMED_INJECTIONS = [text for text in INJECTIONS if not MENTOR_ID.fullmatch(text)]  # not a well-formed id
EVERY_PLANE = "".join(chr(plane * 0x10000 + offset) for plane in range(17) for offset in (0x41, 0xFFFD, 0xFFFF))
CONTROL_CHARACTERS = "".join(chr(code) for code in range(0x20)) + "\x7f\x80\x9f\u2028\u2029\ufeff\u200b\u202e"
ODD_TEXT = [
    CONTROL_CHARACTERS,
    EVERY_PLANE,
    "\ud800 lone high, lone low \udfff, reversed pair \udc00\ud800",
    "🧑‍🏫 👩🏽‍💻 e\u0301 \u0000 null",
    "x" * 15_000,
    "'; DROP TABLE mentor_status; --",
    "\\u0000 not an escape",
]


def send(client, method, path, **kwargs):
    """A request that must not be a 500, must answer JSON, and must not leak internals."""
    TRIED["inputs"] += 1
    response = client.open(path, method=method, **kwargs)
    assert response.status_code < 500, (method, path, response.status_code, response.data[:500])
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "application/json", response.data[:200]
    text = response.get_data(as_text=True)
    if response.status_code >= 400:
        assert not [leak for leak in LEAKS if leak in text], text[:500]
        body = response.get_json()
        assert body["code"] == response.status_code and body["status"]
    return response


def send_raw(client, method, path, data, content_type="application/json"):
    return send(client, method, path, data=data, content_type=content_type)


def assert_tables_untouched(expected_mentors):
    assert MentorStatus.select().count() == expected_mentors
    PauseRecord.select().count()  # raises if the table is gone


# Sizes

@pytest.mark.parametrize("method, path", [("POST", MENTORS), ("PUT", f"{MENTORS}/mentor-001"), ("POST", RECORDS),
                                          ("PUT", f"{RECORDS}/pause-rec-0001")])
def test_a_body_over_64_kib_is_413_json_with_nosniff(client, method, path):
    create_mentor(client)
    body = json.dumps({"mentor_id": "mentor-big", "metadata": {"notes": "x" * (64 * 1024)}})

    response = send_raw(client, method, path, body)

    assert response.status_code == 413
    assert MentorStatus.select().count() == 1


@pytest.mark.slow
def test_a_chunked_body_over_64_kib_is_413_through_gunicorn(tmp_path):
    """No Content-Length to refuse up front: the limit must hold while the body streams in."""
    with Gunicorn(f"sqlite:///{tmp_path}/chunked.db", workers=1) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.putrequest("POST", MENTORS)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Transfer-Encoding", "chunked")
        connection.endheaders()
        try:
            for chunk in [b'{"mentor_id": "mentor-big", "metadata": {"notes": "'] + [b"x" * 8192] * 9 + [b'"}}']:
                connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            connection.send(b"0\r\n\r\n")
        except OSError:  # the server may answer and close before the whole body is sent
            pass
        response = connection.getresponse()
        body = response.read()
        connection.close()
        TRIED["inputs"] += 1

        assert response.status == 413, body
        assert response.getheader("X-Content-Type-Options") == "nosniff"
        assert json.loads(body)["code"] == 413
        assert requests.get(f"{server.base_url}{MENTORS}", timeout=10).json()["pagination"]["total"] == 0


@pytest.mark.parametrize("body", [
    "[" * 30_000 + "]" * 30_000,
    '{"a":' * 10_000 + "1" + "}" * 10_000,
    '{"mentor_id": "mentor-deep", "metadata": ' + '{"a": ' * 5_000 + "{}" + "}" * 5_001,
    '{"mentor_id": "mentor-deep", "metadata": {"list": ' + "[" * 900 + "]" * 900 + "}}",
])
def test_deeply_nested_json_is_400_or_422_never_500(client, body):
    assert len(body.encode()) < 64 * 1024

    response = send_raw(client, "POST", MENTORS, body)

    assert response.status_code in (400, 422)
    assert MentorStatus.select().count() == 0


def test_metadata_nested_to_the_limit_is_stored(client):
    metadata = {}
    for _ in range(31):
        metadata = {"a": metadata}

    created = send(client, "POST", MENTORS, json={"mentor_id": "mentor-deep", "metadata": metadata})

    assert created.status_code == 201 and get_mentor(client, "mentor-deep")["metadata"] == metadata


@pytest.mark.parametrize("body, code", [
    (json.dumps([{"mentor_id": f"mentor-{n}"} for n in range(2_000)]), 422),  # an array, not an object
    (json.dumps(list(range(9_000))), 422),
    (json.dumps({"mentor_id": "mentor-array", "metadata": {"list": list(range(9_000))}}), 422),  # over 16 KiB
    (json.dumps({"mentor_id": "mentor-array", "metadata": {"list": [0] * 8_000}}), 201),  # within 16 KiB
    (json.dumps({"mentor_id": "mentor-array", "status": ["paused"] * 5_000}), 422),
])
def test_huge_json_arrays_within_the_limit_are_answered_by_the_rules(client, body, code):
    assert len(body.encode()) < 64 * 1024

    response = send_raw(client, "POST", MENTORS, body)

    assert response.status_code == code
    if code == 201:
        assert get_mentor(client, "mentor-array")["metadata"]["list"] == [0] * 8_000


@pytest.mark.parametrize("field, value", [
    ("mentor_id", "m" * 65),
    ("mentor_id", "m" * 50_000),
    ("pause_reason", "r" * 50_000),
    ("status", "paused" * 5_000),
    ("pause_start_date", "2026-01-01" + "0" * 50_000),
])
def test_very_long_strings_are_422(client, field, value):
    response = send(client, "POST", MENTORS, json={"mentor_id": "mentor-long", field: value})

    assert response.status_code == 422
    assert field in response.json["errors"]["json"]


@pytest.mark.parametrize("query", [
    {"status": "a" * 30_000},
    {"page": "9" * 30_000},
    {"limit": "1" * 5_000},
    {"expected_return_before": "2026-01-01" + "9" * 30_000},
    {"is_paused": "t" * 30_000},
])
def test_very_long_query_strings_are_422(client, query):
    response = send(client, "GET", MENTORS, query_string=query)

    assert response.status_code == 422
    assert set(query) <= set(response.json["errors"]["query"])


@pytest.mark.parametrize("path", [f"{MENTORS}/{'m' * 8_000}", f"{RECORDS}/pause-rec-{'0' * 8_000}1",
                                  f"{MENTORS}/mentor-001{'/x' * 2_000}"])
def test_very_long_paths_are_404(client, path):
    assert send(client, "GET", path).status_code == 404


def test_many_unknown_query_parameters_are_each_named_in_one_422(client):
    create_mentor(client)
    query = "&".join(f"unknown{n}=x" for n in range(3_000)) + "&status=active"

    response = send(client, "GET", f"{MENTORS}?{query}")

    assert response.status_code == 422 and len(response.json["errors"]["query"]) == 3_000


# Characters

@pytest.mark.parametrize("text", ODD_TEXT, ids=["controls", "every-plane", "lone-surrogates", "emoji", "15k", "sql",
                                                "backslash"])
def test_any_text_in_metadata_is_stored_and_returned_exactly(client, text):
    metadata = {"notes": text, text[:50] or "key": [text[:100], {"nested": text[-100:]}]}

    created = send(client, "POST", MENTORS, json={"mentor_id": "mentor-text", "metadata": metadata})
    changed = send(client, "PUT", f"{MENTORS}/mentor-text", json={"metadata": {**metadata, "again": text[:10]}})
    listed = send(client, "GET", MENTORS).json["data"][0]

    assert created.status_code == 201 and created.json["metadata"] == metadata
    assert changed.status_code == 200 and changed.json["metadata"] == {**metadata, "again": text[:10]}
    assert listed["metadata"] == {**metadata, "again": text[:10]}
    # The stored text is JSON again, whatever went in.
    assert json.loads(MentorStatus.get_by_id("mentor-text").metadata_json) == {**metadata, "again": text[:10]}


def test_every_plane_and_control_characters_in_ids_and_reasons_are_422(client):
    for text in ODD_TEXT[:4]:
        assert send(client, "POST", MENTORS, json={"mentor_id": text}).status_code == 422
        assert send(client, "POST", MENTORS, json={"mentor_id": "m1", "status": "paused",
                                                   "pause_reason": text}).status_code == 422
    assert MentorStatus.select().count() == 0


@pytest.mark.parametrize("body", [
    b'{"mentor_id": "\xff\xfe"}',
    b'{"mentor_id": "mentor-001", "metadata": {"notes": "\xc3\x28"}}',
    b'{"mentor_id": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8 (CESU), not UTF-8
    b"\xef\xbb\xbf" + b'{"mentor_id": "mentor-bom"}',
    b'\x00{"mentor_id": "mentor-001"}',
    '{"mentor_id": "mentor-001"}'.encode("utf-16"),
])
def test_bodies_that_are_not_utf8_json_are_400(client, body):
    assert send_raw(client, "POST", MENTORS, body).status_code == 400
    assert MentorStatus.select().count() == 0


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999", "9" * 5_000])
def test_numbers_json_cannot_carry_are_400_not_stored(client, number):
    """Regression: NaN and Infinity were stored and sent back as bare NaN/Infinity (not JSON),
    and an integer of over 4300 digits was a 500."""
    body = '{"mentor_id": "mentor-num", "metadata": {"x": %s}}' % number

    response = send_raw(client, "POST", MENTORS, body)

    assert response.status_code == 400
    assert MentorStatus.select().count() == 0


@pytest.mark.parametrize("number", ["1.5e300", "-0.0", "123456789012345678901234567890", "1E-400", "4" * 4_000])
def test_big_finite_numbers_in_metadata_round_trip(client, number):
    body = '{"mentor_id": "mentor-num", "metadata": {"x": %s}}' % number

    created = send_raw(client, "POST", MENTORS, body)

    assert created.status_code == 201
    # The answer is strict JSON and holds the same number.
    answer = json.loads(created.get_data(as_text=True), parse_constant=pytest.fail)
    assert answer["metadata"]["x"] == json.loads(number)
    assert get_mentor(client, "mentor-num")["metadata"]["x"] == json.loads(number)


# Injection-shaped text

@pytest.mark.parametrize("text", INJECTIONS)
def test_injection_and_traversal_text_in_ids_is_404(client, text):
    create_mentor(client)
    create_pause(client)
    quoted = text.replace("%", "%25").replace("/", "%2F").replace("?", "%3F").replace("#", "%23")

    for method in ("GET", "PUT", "DELETE"):
        body = {"status": "inactive"} if method == "PUT" else None
        assert send(client, method, f"{MENTORS}/{quoted}", json=body).status_code in (404, 422)
        body = {"reason": "travel"} if method == "PUT" else None
        assert send(client, method, f"{RECORDS}/{quoted}", json=body).status_code in (404, 422)
    assert get_mentor(client)["status"] == "paused"
    assert_tables_untouched(1)


@pytest.mark.parametrize("text", MALFORMED_INJECTIONS)
def test_injection_text_in_filters_is_422(client, text):
    create_mentor(client)

    for path, name in ((MENTORS, "status"), (MENTORS, "expected_return_before"), (MENTORS, "is_paused"),
                       (RECORDS, "mentor_id"), (RECORDS, "reason"), (RECORDS, "is_active"), (MENTORS, "page"),
                       (RECORDS, "limit")):
        response = send(client, "GET", path, query_string={name: text})
        assert response.status_code == 422, (name, text)
        assert name in response.json["errors"]["query"]
    assert_tables_untouched(1)


@pytest.mark.parametrize("text", MALFORMED_INJECTIONS)
def test_injection_text_in_bodies_is_422_or_stored_as_text(client, text):
    create_mentor(client)

    assert send(client, "POST", MENTORS, json={"mentor_id": text}).status_code == 422
    assert send(client, "POST", RECORDS, json={"mentor_id": text}).status_code == 422
    assert send(client, "PUT", f"{MENTORS}/mentor-001", json={"status": text}).status_code == 422
    stored = send(client, "PUT", f"{MENTORS}/mentor-001", json={"metadata": {"notes": text}})
    assert stored.status_code == 200 and get_mentor(client)["metadata"] == {"notes": text}
    assert_tables_untouched(1)


# JSON shape

def test_duplicate_json_keys_take_the_last_value(client):
    """Python's JSON reader keeps the last of duplicate keys; the service stores exactly what it answered."""
    created = send_raw(client, "POST", MENTORS, '{"mentor_id": "mentor-001", "mentor_id": "mentor-002", '
                                                '"status": "paused", "status": "inactive"}')

    assert created.status_code == 201
    assert (created.json["mentor_id"], created.json["status"]) == ("mentor-002", "inactive")
    assert get_mentor(client, "mentor-002")["status"] == "inactive"
    assert MentorStatus.select().count() == 1 and PauseRecord.select().count() == 0


def test_duplicate_keys_cannot_smuggle_a_read_only_field(client):
    create_mentor(client)

    response = send_raw(client, "PUT", f"{MENTORS}/mentor-001", '{"status": "inactive", "mentor_id": "x", '
                                                                '"mentor_id": "mentor-001"}')

    assert response.status_code == 422 and "mentor_id" in response.json["errors"]["json"]


@pytest.mark.parametrize("body", [
    {"mentor_id": 123},
    {"mentor_id": 1.5},
    {"mentor_id": True},
    {"mentor_id": None},
    {"mentor_id": ["mentor-001"]},
    {"mentor_id": {"$ne": ""}},
    {"mentor_id": "mentor-009", "status": 1},
    {"mentor_id": "mentor-009", "is_paused": "true"},
    {"mentor_id": "mentor-009", "is_paused": 1},
    {"mentor_id": "mentor-009", "is_paused": None},
    {"mentor_id": "mentor-009", "status": "paused", "pause_reason": 5},
    {"mentor_id": "mentor-009", "status": "paused", "pause_start_date": 1767225600},
    {"mentor_id": "mentor-009", "status": "paused", "expected_return_date": [2026, 1, 1]},
    {"mentor_id": "mentor-009", "metadata": "notes"},
    {"mentor_id": "mentor-009", "metadata": ["notes"]},
    {"mentor_id": "mentor-009", "metadata": 7},
    {"mentor_id": "mentor-009", "metadata": None},
])
def test_wrong_json_types_in_a_mentor_are_422(client, body):
    response = send(client, "POST", MENTORS, json=body)

    assert response.status_code == 422
    assert MentorStatus.select().count() == 0


@pytest.mark.parametrize("body", [
    {"mentor_id": 1},
    {"mentor_id": "mentor-001", "start_date": 0},
    {"mentor_id": "mentor-001", "end_date": True},
    {"mentor_id": "mentor-001", "is_active": "false"},
    {"mentor_id": "mentor-001", "is_active": 0},
    {"mentor_id": "mentor-001", "reason": ["travel"]},
    {"mentor_id": "mentor-001", "expected_return_date": {"date": "2026-01-01"}},
])
def test_wrong_json_types_in_a_pause_record_are_422(client, body):
    create_mentor(client)

    response = send(client, "POST", RECORDS, json=body)

    assert response.status_code == 422
    assert PauseRecord.select().count() == 0 and get_mentor(client)["status"] == "active"


@pytest.mark.parametrize("query", [
    {"page": "1.5"}, {"page": "1e3"}, {"page": "0x10"}, {"page": "-1"}, {"page": ""}, {"page": "true"},
    {"limit": "NaN"}, {"limit": "Infinity"}, {"limit": "[]"}, {"limit": "101"},
    {"is_paused": "yes"}, {"is_paused": "2"}, {"status": "PAUSED"}, {"expected_return_before": "1767225600"},
])
def test_wrong_types_in_query_parameters_are_422(client, query):
    response = send(client, "GET", MENTORS, query_string=query)

    assert response.status_code == 422 and set(query) <= set(response.json["errors"]["query"])


@pytest.mark.parametrize("body", ["null", "true", "123", '"mentor-001"', "[]", "{}"])
def test_json_that_is_not_an_object_or_is_empty_is_422(client, body):
    create_mentor(client)

    assert send_raw(client, "POST", MENTORS, body).status_code == 422
    assert send_raw(client, "POST", RECORDS, body).status_code == 422
    assert send_raw(client, "PUT", f"{RECORDS}/pause-rec-0001", body).status_code in (404, 422)


@pytest.mark.parametrize("date", ["2026-02-30", "2026-13-01", "0000-01-01", "10000-01-01", "2026-01-01T25:00:00Z",
                                  "2026-01-01T00:00:00+25:00", "0001-01-01T00:00:00+01:00",
                                  "9999-12-31T23:59:59-01:00", "yesterday", "2026-01-01T00:00:00 UTC", ""])
def test_impossible_or_unrepresentable_dates_are_422(client, date):
    response = send(client, "POST", MENTORS, json={"mentor_id": "mentor-001", "status": "paused",
                                                   "pause_start_date": date})

    assert response.status_code == 422 and "pause_start_date" in response.json["errors"]["json"]
    assert send(client, "GET", MENTORS, query_string={"expected_return_before": date}).status_code == 422


def test_the_extreme_representable_dates_round_trip(client):
    created = send(client, "POST", MENTORS, json={"mentor_id": "mentor-001", "status": "paused",
                                                  "pause_start_date": "0001-01-01",
                                                  "expected_return_date": "9999-12-31T23:59:59Z"})
    listed = send(client, "GET", MENTORS, query_string={"expected_return_before": "9999-12-31T23:59:59.999Z"})

    assert created.status_code == 201
    assert (created.json["pause_start_date"], created.json["expected_return_date"]) == (
        "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z")
    assert get_mentor(client)["pause_start_date"] == "0001-01-01T00:00:00Z"
    assert listed.status_code == 200


# Headers on every kind of answer

@pytest.mark.parametrize("method, path, kwargs, code", [
    ("GET", "/nowhere", {}, 404),
    ("GET", f"{MENTORS}/unknown", {}, 404),
    ("PATCH", f"{MENTORS}/mentor-001", {"json": {}}, 405),
    ("DELETE", MENTORS, {}, 405),
    ("POST", MENTORS, {"data": "x" * 70_000, "content_type": "application/json"}, 413),
    ("POST", MENTORS, {"data": "{", "content_type": "application/json"}, 400),
    ("POST", MENTORS, {"data": "mentor_id=x", "content_type": "application/x-www-form-urlencoded"}, 415),
    ("POST", MENTORS, {"json": {"mentor_id": "mentor-001"}}, 409),
    ("GET", MENTORS, {"query_string": {"page": "0"}}, 422),
    ("GET", "/healthz", {}, 200),
    ("GET", "/openapi.json", {}, 200),
])
def test_every_answer_says_nosniff_and_errors_are_json(client, method, path, kwargs, code):
    create_mentor(client)

    response = send(client, method, path, **kwargs)

    assert response.status_code == code


@pytest.fixture(scope="module", autouse=True)
def report_inputs_tried():
    yield
    print(f"\nhostile input: {TRIED['inputs']} requests sent")
