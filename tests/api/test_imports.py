"""POST /api/v1/mentor-statuses/import: JSON or CSV, create or upsert, dry runs, every invalid row
listed with nothing written, the CSV export loading back unchanged, its limits and its scope."""
import csv
import io
import json

import pytest
from factories import create_mentor, get_mentor
from servers import table_violations

from mentor_status_service import create_app
from mentor_status_service.changes import log as change_log
from mentor_status_service.changes.models import ChangeEntry
from mentor_status_service.db import database
from mentor_status_service.pausing.models import MentorStatus, PauseRecord

IMPORT = "/api/v1/mentor-statuses/import"
ALIAS = "/api/v1/mentor-statuses"
HEADER = ("mentor_id,status,is_paused,pause_start_date,expected_return_date,pause_reason,metadata,created_at,"
          "last_updated")


def load(client, rows=None, csv_text=None, **query):
    if csv_text is not None:
        return client.post(IMPORT, query_string=query, data=csv_text.encode(), content_type="text/csv")
    return client.post(IMPORT, query_string=query, json={"mentors": rows})


def entries():
    """Every change entry, in feed order."""
    change_log.number_committed_entries()
    return list(ChangeEntry.select().order_by(ChangeEntry.change_id))


def totals(client, **filters):
    return client.get("/api/v1/mentor-statuses", query_string=filters).json["pagination"]["total"]


def nothing_written():
    return MentorStatus.select().count() == 0 and PauseRecord.select().count() == 0 and not entries()


@pytest.mark.parametrize("prefix", ["", ALIAS])
def test_a_json_load_creates_every_mentor_as_a_post_would(client, prefix):
    response = client.post(prefix + IMPORT, json={"mentors": [
        {"mentor_id": "mentor-001"},
        {"mentor_id": "mentor-002", "status": "inactive", "metadata": {"cohort": "2027"}},
        {"mentor_id": "mentor-003", "is_paused": True, "pause_start_date": "2026-03-01",
         "expected_return_date": "2026-04-01T00:00:00Z", "pause_reason": "personal_leave"},
    ]})

    assert response.status_code == 200, response.json
    assert response.json == {"rows": 3, "created": 3, "updated": 0, "unchanged": 0}
    paused = get_mentor(client, "mentor-003")
    assert (paused["status"], paused["pause_start_date"], paused["pause_reason"]) == (
        "paused", "2026-03-01T00:00:00Z", "personal_leave")
    assert get_mentor(client, "mentor-002")["metadata"] == {"cohort": "2027"}
    [pause] = client.get("/api/v1/pause-records").json["data"]
    assert (pause["mentor_id"], pause["is_active"]) == ("mentor-003", True)
    # The change entries a POST of each would append, all with this request's id.
    logged = entries()
    assert sorted((entry.resource, entry.resource_id, entry.event) for entry in logged) == [
        ("mentor_status", "mentor-001", "created"), ("mentor_status", "mentor-002", "created"),
        ("mentor_status", "mentor-003", "created"), ("pause_record", pause["pause_record_id"], "created")]
    assert {entry.request_id for entry in logged} == {response.headers["X-Request-ID"]}
    assert json.loads(next(entry.after_json for entry in logged if entry.resource_id == "mentor-003")) == paused


def test_the_list_totals_stay_exact_after_a_load(client):
    create_mentor(client, "mentor-000", status="paused")
    load(client, [{"mentor_id": f"mentor-{n:03d}", "status": ("active", "inactive", "paused")[n % 3]}
                  for n in range(1, 31)])
    load(client, [{"mentor_id": "mentor-000", "status": "active"}, {"mentor_id": "mentor-003", "status": "active"}],
         mode="upsert")

    assert totals(client) == 31
    assert totals(client, status="paused") == 10
    assert totals(client, status="active") == 11
    assert totals(client, status="inactive") == 10
    assert client.get("/api/v1/pause-records", query_string={"is_active": "false"}).json["pagination"]["total"] == 1
    assert table_violations(database.obj) == []


def test_a_csv_load_reads_cells_as_the_export_writes_them(client):
    text = (f"{HEADER}\r\n"
            'mentor-001,paused,true,2026-03-01T00:00:00Z,,travel,"{""notes"": ""a, b""}",2020-01-01T00:00:00Z,x\r\n'
            "mentor-002,,false,,,,,,\r\n"
            "mentor-003,inactive,,,,,{},,\r\n"
            "\r\n\r\n")  # blank lines, as spreadsheets leave at the end

    response = load(client, csv_text=text)

    assert response.status_code == 200, response.json
    assert response.json["created"] == 3
    first = get_mentor(client, "mentor-001")
    assert (first["status"], first["pause_reason"], first["metadata"]) == ("paused", "travel", {"notes": "a, b"})
    assert first["created_at"] != "2020-01-01T00:00:00Z"  # created_at and last_updated are ignored
    assert get_mentor(client, "mentor-002")["status"] == "active"  # empty cells are absent fields
    assert get_mentor(client, "mentor-003")["status"] == "inactive"


def test_csv_columns_may_come_in_any_order_and_any_subset(client):
    response = load(client, csv_text="status,mentor_id\r\ninactive,mentor-001\r\n")

    assert response.status_code == 200
    assert get_mentor(client)["status"] == "inactive"


@pytest.mark.parametrize("header, named", [("mentor_id,colour", "colour"), ("mentor_id,status,status", "status"),
                                           ("mentor_id,pause_record_id", "pause_record_id")])
def test_an_unknown_or_repeated_csv_column_is_a_422_naming_it(client, header, named):
    response = load(client, csv_text=f"{header}\r\nmentor-001,x,y\r\n")

    assert response.status_code == 422
    assert list(response.json["errors"]["csv"]) == [named]
    assert nothing_written()


def test_upsert_updates_existing_mentors_as_a_put_and_creates_the_others(client):
    create_mentor(client, "mentor-001", status="paused", pause_reason="travel", metadata={"a": 1})
    create_mentor(client, "mentor-002")
    create_mentor(client, "mentor-003", status="inactive")
    before = len(entries())

    response = load(client, [{"mentor_id": "mentor-001", "status": "active"},
                             {"mentor_id": "mentor-002", "status": "paused", "pause_reason": "illness"},
                             {"mentor_id": "mentor-003", "is_paused": False},  # an inactive mentor stays inactive
                             {"mentor_id": "mentor-004"}], mode="upsert")

    assert response.json == {"rows": 4, "created": 1, "updated": 2, "unchanged": 1}
    assert get_mentor(client, "mentor-001")["metadata"] == {"a": 1}  # fields not sent stay
    assert get_mentor(client, "mentor-001")["status"] == "active"
    assert get_mentor(client, "mentor-002")["pause_reason"] == "illness"
    assert get_mentor(client, "mentor-003")["status"] == "inactive"
    records = {record["mentor_id"]: record for record in client.get("/api/v1/pause-records").json["data"]}
    assert records["mentor-001"]["is_active"] is False and records["mentor-002"]["is_active"] is True
    events = sorted((entry.resource, entry.mentor_id, entry.event) for entry in entries()[before:])
    assert events == [("mentor_status", "mentor-001", "updated"), ("mentor_status", "mentor-002", "updated"),
                      ("mentor_status", "mentor-004", "created"), ("pause_record", "mentor-001", "updated"),
                      ("pause_record", "mentor-002", "created")]
    assert table_violations(database.obj) == []


def test_a_load_makes_the_entries_that_single_writes_make(app, client):
    """The same changes made by PUTs on one mentor and by a load on its twin: the same entries."""
    for mentor_id in ("single", "loaded"):
        create_mentor(client, mentor_id, status="paused", pause_reason="travel")
    before = len(entries())
    change = {"status": "paused", "pause_reason": "illness", "expected_return_date": "2027-01-01"}
    client.put("/api/v1/mentor-statuses/single", json=change)
    load(client, [{"mentor_id": "loaded", **change}], mode="upsert")

    def shape(entry):
        strip = lambda text: text and {key: value for key, value in json.loads(text).items()  # noqa: E731
                                       if key not in ("mentor_id", "pause_record_id", "created_at", "last_updated",
                                                      "start_date", "pause_start_date")}
        return entry.resource, entry.event, strip(entry.before_json), strip(entry.after_json)

    made = entries()[before:]
    single = [shape(entry) for entry in made if entry.mentor_id == "single"]
    loaded = [shape(entry) for entry in made if entry.mentor_id == "loaded"]
    assert single == loaded and len(single) == 2


def test_create_mode_refuses_an_existing_mentor_as_that_rows_error(client):
    create_mentor(client, "mentor-002")

    response = load(client, [{"mentor_id": "mentor-001"}, {"mentor_id": "mentor-002"}])

    assert response.status_code == 422
    assert list(response.json["errors"]["rows"]) == ["2"]
    assert "mentor_id" in response.json["errors"]["rows"]["2"]
    assert MentorStatus.select().count() == 1


def test_every_invalid_row_is_listed_by_number_and_nothing_is_written(client):
    rows = [{"mentor_id": "mentor-001"},
            {"mentor_id": "mentor-002", "status": "asleep"},  # 2: a shape error
            {"mentor_id": "mentor-003", "pause_reason": "travel"},  # 3: a rule: only a paused mentor has one
            {"mentor_id": "mentor-004", "status": "paused", "pause_start_date": "2026-05-01",
             "expected_return_date": "2026-04-01"},  # 4: a rule: dates out of order
            {"mentor_id": "mentor-001"},  # 5: repeated
            {"status": "active"},  # 6: no mentor_id
            {"mentor_id": "mentor-007", "created_at": "2026-01-01"},  # 7: read-only in JSON
            "mentor-008",  # 8: not an object
            {"mentor_id": "mentor-009", "status": "paused"}]

    response = load(client, rows)

    assert response.status_code == 422, response.json
    errors = response.json["errors"]["rows"]
    assert list(errors) == ["2", "3", "4", "5", "6", "7", "8"]
    assert list(errors["2"]) == ["status"]
    assert list(errors["3"]) == ["pause_reason"]
    assert list(errors["4"]) == ["expected_return_date"]
    assert errors["5"]["mentor_id"] == ["Repeated: row 1 has this mentor_id already."]
    assert list(errors["6"]) == ["mentor_id"]
    assert nothing_written()


def test_csv_rows_are_numbered_from_1_after_the_header(client):
    response = load(client, csv_text="mentor_id,is_paused,metadata\r\nmentor-001,true,\r\nmentor-002,perhaps,\r\n"
                                     "mentor-003,,not json\r\nmentor-004,false,[1]\r\nmentor-005,false,{},extra\r\n")

    assert response.status_code == 422
    assert {number: list(fields) for number, fields in response.json["errors"]["rows"].items()} == {
        "2": ["is_paused"], "3": ["metadata"], "4": ["metadata"], "5": ["(cells beyond the header row)"]}
    assert nothing_written()


def test_a_dry_run_answers_as_the_load_would_and_writes_nothing(client):
    create_mentor(client, "mentor-001")
    before = len(entries())

    response = load(client, [{"mentor_id": "mentor-001", "status": "paused"}, {"mentor_id": "mentor-002"}],
                    mode="upsert", dry_run="true")
    invalid = load(client, [{"mentor_id": "mentor-001"}], dry_run="true")

    assert response.status_code == 200
    assert response.json == {"rows": 2, "created": 1, "updated": 1, "unchanged": 0}
    assert invalid.status_code == 422 and list(invalid.json["errors"]["rows"]) == ["1"]
    assert get_mentor(client, "mentor-001")["status"] == "active"
    assert MentorStatus.select().count() == 1 and PauseRecord.select().count() == 0
    assert len(entries()) == before


def test_the_csv_export_loads_back_unchanged(client):
    create_mentor(client, "mentor-001", metadata={"notes": "=SUM(A1), \"quoted\"\nnew line", "n": [1, 2.5]})
    create_mentor(client, "mentor-002", status="inactive")
    create_mentor(client, "mentor-003", status="paused", pause_start_date="2026-01-02T03:04:05Z",
                  expected_return_date="2026-12-31", pause_reason="certification_expiry")
    create_mentor(client, "mentor-004", status="paused")
    client.post("/api/v1/pause-records", json={"mentor_id": "mentor-002", "start_date": "2025-01-01",
                                               "end_date": "2025-02-01"})
    exported = client.get("/api/v1/mentor-statuses", query_string={"format": "csv"}).data.decode()
    before = [(entry.change_id, entry.resource_id) for entry in entries()]

    response = load(client, csv_text=exported, mode="upsert")

    assert response.status_code == 200, response.json
    assert response.json == {"rows": 4, "created": 0, "updated": 0, "unchanged": 4}
    assert [(entry.change_id, entry.resource_id) for entry in entries()] == before
    assert client.get("/api/v1/mentor-statuses", query_string={"format": "csv"}).data.decode() == exported


def test_a_load_of_the_most_rows_succeeds_and_one_more_is_a_413(client):
    rows = [{"mentor_id": f"m{n}"} for n in range(10_001)]

    too_many = load(client, rows)
    csv_too_many = load(client, csv_text="mentor_id\r\n" + "".join(f"m{n}\r\n" for n in range(10_001)))
    most = load(client, rows[:10_000])

    assert too_many.status_code == 413 and csv_too_many.status_code == 413
    assert most.status_code == 200 and most.json["created"] == 10_000
    assert totals(client) == 10_000


def test_a_load_may_be_8_mib_and_no_more_while_other_writes_keep_64_kib(client):
    padding = "x" * 16_000
    row = {"mentor_id": "m", "metadata": {"p": padding}}
    count = 8 * 1024 * 1024 // len(json.dumps(row))
    near_limit = json.dumps({"mentors": [{**row, "mentor_id": f"m{n}"} for n in range(count - 8)]})
    over_limit = near_limit[:-2] + ", " + ", ".join(json.dumps({**row, "mentor_id": f"o{n}"}) for n in range(16)) + "]}"

    accepted = client.post(IMPORT, data=near_limit, content_type="application/json")
    refused = client.post(IMPORT, data=over_limit, content_type="application/json")
    single = client.post("/api/v1/mentor-statuses", json={"mentor_id": "big", "metadata": {"p": "x" * 70_000}})

    assert len(near_limit) > 8 * 1024 * 1024 - 200_000 and len(over_limit) > 8 * 1024 * 1024
    assert accepted.status_code == 200, accepted.json
    assert refused.status_code == 413
    assert single.status_code == 413


def test_mode_and_dry_run_are_checked_and_unknown_parameters_refused(client):
    assert load(client, [], mode="replace").status_code == 422
    assert load(client, [], dry_run="maybe").status_code == 422
    assert load(client, [], merge="true").status_code == 422
    assert load(client, []).json == {"rows": 0, "created": 0, "updated": 0, "unchanged": 0}


@pytest.mark.parametrize("body, content_type, code", [
    (b"<mentors/>", "application/xml", 415), (b'{"mentors": [', "application/json", 400),
    (b'{"rows": []}', "application/json", 422), (b"\xff\xfe", "text/csv", 400), (b"", "text/csv", 422),
    (b'mentor_id\r\n"unterminated', "text/csv", 400)])
def test_a_body_that_cannot_be_read_is_a_clear_error(client, body, content_type, code):
    response = client.post(IMPORT, data=body, content_type=content_type)

    assert response.status_code == code, response.json
    assert response.json["code"] == code
    assert nothing_written()


def test_a_load_needs_a_write_token(database_url, app):
    client = create_app({"DATABASE_URL": database_url, "TESTING": True,
                         "API_TOKENS": "dashboard:read:read-secret-0123456789,hr:write:write-secret-0123456789"}
                        ).test_client()
    body = {"mentors": [{"mentor_id": "mentor-001"}]}

    anonymous = client.post(IMPORT, json=body)
    reader = client.post(IMPORT, json=body, headers={"Authorization": "Bearer read-secret-0123456789"})
    writer = client.post(IMPORT, json=body, headers={"Authorization": "Bearer write-secret-0123456789"})

    assert (anonymous.status_code, reader.status_code, writer.status_code) == (401, 403, 200)
    assert [entry.actor for entry in entries()] == ["hr"]


def test_the_import_is_documented(client):
    operation = client.get("/openapi.json").json["paths"][IMPORT]["post"]

    assert operation["operationId"] == "importMentorStatuses"
    assert set(operation["requestBody"]["content"]) == {"application/json", "text/csv"}
    assert {"200", "413", "422"} <= set(operation["responses"])


def test_the_csv_header_of_the_export_is_what_a_load_takes(client):
    exported = client.get("/api/v1/mentor-statuses", query_string={"format": "csv"}).data.decode()
    assert next(csv.reader(io.StringIO(exported))) == HEADER.split(",")
