import pytest
from factories import create_mentor

from mentor_status_service.db import database


@pytest.mark.parametrize("sent, returned", [
    ("2026-04-01T00:00:00Z", "2026-04-01T00:00:00Z"),
    ("2026-04-01T02:30:00+02:30", "2026-04-01T00:00:00Z"),
    ("2026-03-31T19:00:00-05:00", "2026-04-01T00:00:00Z"),
    ("2026-04-01T00:00:00", "2026-04-01T00:00:00Z"),
    ("2026-04-01", "2026-04-01T00:00:00Z"),
    ("2026-04-01T00:00:00.999Z", "2026-04-01T00:00:00Z"),
    ("2026-04-01T00:00:00.5+00:00", "2026-04-01T00:00:00Z"),
])
def test_every_accepted_form_is_returned_as_utc_to_the_second(client, sent, returned):
    mentor = create_mentor(client, status="paused", pause_start_date=sent)

    assert mentor["pause_start_date"] == returned
    assert client.get("/api/v1/pause-records/pause-rec-0001").json["start_date"] == returned


def test_dates_are_stored_as_naive_utc(client):
    create_mentor(client, status="paused", pause_start_date="2026-04-01T02:00:00+02:00")

    [(stored,)] = database.execute_sql("SELECT start_date FROM pause_record").fetchall()

    assert str(stored).startswith("2026-04-01 00:00:00")


@pytest.mark.parametrize("sent", ["2026-02-30", "2026-04-01T25:00:00Z", "2026-04-01T00:00:00+24:00", "01/04/2026",
                                  "", "2026-04-01Z", "0001-01-01T00:00:00+01:00", 20260401, True])
def test_impossible_or_malformed_dates_are_422_naming_the_field(client, sent):
    response = client.post("/api/v1/mentor-statuses", json={"mentor_id": "m", "status": "paused",
                                                            "pause_start_date": sent})

    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"pause_start_date"}


def test_equal_start_and_expected_return_are_allowed(client):
    mentor = create_mentor(client, status="paused", pause_start_date="2026-04-01",
                           expected_return_date="2026-04-01T00:00:00Z")

    assert mentor["expected_return_date"] == mentor["pause_start_date"]
