"""Idempotency-Key: a retried write returns its first response and changes nothing more; a key
reused for another request is a 422; a repeat while the first runs is a 409; keys are per actor;
refusals and server errors keep nothing; keys expire. (tests/system/test_idempotency_processes.py:
duplicates across worker processes.)"""
import time

import pytest
from factories import create_mentor, create_pause
from peewee import OperationalError

from mentor_status_service import create_app
from mentor_status_service.changes.models import ChangeEntry
from mentor_status_service.config import Config, ConfigurationError
from mentor_status_service.db import utc_now
from mentor_status_service.pausing import rules
from mentor_status_service.pausing.models import MentorStatus, PauseRecord
from mentor_status_service.web import idempotency
from mentor_status_service.web.idempotency import IdempotencyKey, Sent
from mentor_status_service.webhooks.models import Webhook

ALIAS = "/api/v1/mentor-statuses"
KEY = "retry-7f3c9a"
ADMIN_SECRET = "admin-secret-0123456789"
WRITE_SECRET = "write-secret-0123456789"
OTHER_WRITE_SECRET = "other-write-secret-0123456789"
TOKENS = f"root:admin:{ADMIN_SECRET},hr-sync:write:{WRITE_SECRET},crm:write:{OTHER_WRITE_SECRET}"


def keyed(key=KEY, secret=None):
    headers = {"Idempotency-Key": key}
    if secret:
        headers["Authorization"] = f"Bearer {secret}"
    return headers


def entries():
    return ChangeEntry.select().count()


def same_response(first, second):
    assert (second.status_code, second.data) == (first.status_code, first.data)
    assert second.headers.get("Location") == first.headers.get("Location")
    assert second.headers.get("ETag") == first.headers.get("ETag")


WRITES = {
    "create mentor": ("POST", "/api/v1/mentor-statuses", {"mentor_id": "mentor-002", "status": "paused"}),
    "update mentor": ("PUT", "/api/v1/mentor-statuses/mentor-001", {"metadata": {"cohort": "2027"}}),
    "delete mentor": ("DELETE", "/api/v1/mentor-statuses/mentor-001", None),
    "create past pause": ("POST", "/api/v1/pause-records", {"mentor_id": "mentor-001", "start_date": "2025-01-01",
                                                            "end_date": "2025-02-01"}),
    "close pause": ("PUT", "/api/v1/pause-records/pause-rec-0001", {"is_active": False}),
    "delete pause": ("DELETE", "/api/v1/pause-records/pause-rec-0001", None),
    "import": ("POST", "/api/v1/mentor-statuses/import?mode=upsert", {"mentors": [{"mentor_id": "mentor-009"}]}),
}


@pytest.mark.parametrize("prefix", ["", ALIAS])
@pytest.mark.parametrize("write", list(WRITES))
def test_a_repeated_write_gets_its_first_response_again_and_changes_nothing(client, write, prefix):
    create_mentor(client)
    create_pause(client)
    method, path, body = WRITES[write]

    first = client.open(prefix + path, method=method, json=body, headers=keyed())
    after_first = entries()
    second = client.open(prefix + path, method=method, json=body, headers=keyed())

    assert first.status_code in (200, 201), first.json
    assert "Idempotent-Replayed" not in first.headers
    same_response(first, second)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert entries() == after_first  # no new change entry
    assert PauseRecord.select().count() == (0 if write in ("delete mentor", "delete pause") else
                                            2 if write in ("create mentor", "create past pause") else 1)


def test_a_refusal_is_kept_and_replayed_like_a_success(client):
    create_mentor(client)
    first = client.post("/api/v1/pause-records", json={"mentor_id": "nobody"}, headers=keyed())
    create_mentor(client, "nobody")  # the retry would now succeed, were it run again

    second = client.post("/api/v1/pause-records", json={"mentor_id": "nobody"}, headers=keyed())

    assert first.status_code == 422
    same_response(first, second)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert PauseRecord.select().count() == 0


@pytest.mark.parametrize("method, path, body", [
    ("POST", "/api/v1/mentor-statuses", {"mentor_id": "mentor-003"}),  # another body
    ("POST", "/api/v1/mentor-statuses", {"mentor_id": "mentor-002", "status": "active"}),
    ("POST", ALIAS + "/api/v1/mentor-statuses", {"mentor_id": "mentor-002"}),  # the other path form
    ("POST", "/api/v1/mentor-statuses?source=retry", {"mentor_id": "mentor-002"}),  # another query
    ("POST", "/api/v1/mentor-statuses/import", {"mentors": [{"mentor_id": "mentor-002"}]}),  # another path
    ("PUT", "/api/v1/mentor-statuses/mentor-002", {"status": "active"}),  # another method
    ("DELETE", "/api/v1/mentor-statuses/mentor-002", None),
])
def test_a_key_reused_for_another_request_is_a_422_naming_it(client, method, path, body):
    first = client.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-002"}, headers=keyed())
    before = entries()

    reused = client.open(path, method=method, json=body, headers=keyed())

    assert first.status_code == 201
    assert reused.status_code == 422, reused.json
    assert "Idempotency-Key" in reused.json["errors"]["headers"]
    assert entries() == before
    assert [mentor.mentor_id for mentor in MentorStatus.select()] == ["mentor-002"]


def test_a_dry_run_and_a_real_load_are_different_requests(client):
    body = {"mentors": [{"mentor_id": "mentor-005"}]}
    dry = client.post("/api/v1/mentor-statuses/import?dry_run=true", json=body, headers=keyed())
    real = client.post("/api/v1/mentor-statuses/import", json=body, headers=keyed())

    assert dry.status_code == 200
    assert real.status_code == 422 and "Idempotency-Key" in real.json["errors"]["headers"]


def test_the_body_is_compared_byte_for_byte(client):
    first = client.post("/api/v1/mentor-statuses", data='{"mentor_id": "mentor-002"}',
                        content_type="application/json", headers=keyed())
    spaced = client.post("/api/v1/mentor-statuses", data='{"mentor_id":"mentor-002"}',
                         content_type="application/json", headers=keyed())

    assert first.status_code == 201
    assert spaced.status_code == 422


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "tab\there"])
def test_a_malformed_key_is_a_422_naming_it_and_nothing_is_written(client, key):
    response = client.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-002"},
                           headers={"Idempotency-Key": key})

    assert response.status_code == 422, response.json
    assert list(response.json["errors"]["headers"]) == ["Idempotency-Key"]
    assert MentorStatus.select().count() == 0


def test_the_longest_and_oddest_printable_keys_work(client):
    for number, key in enumerate(["~" * 255, " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "1"]):
        body = {"mentor_id": f"mentor-{number}"}
        first = client.post("/api/v1/mentor-statuses", json=body, headers=keyed(key))
        again = client.post("/api/v1/mentor-statuses", json=body, headers=keyed(key))
        assert first.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"


def test_without_a_key_a_retry_runs_again(client):
    body = {"mentor_id": "mentor-001", "start_date": "2025-01-01", "end_date": "2025-02-01"}
    create_mentor(client)
    for _ in range(2):
        assert client.post("/api/v1/pause-records", json=body).status_code == 201
    assert PauseRecord.select().count() == 2


@pytest.fixture
def make_client(database_url, app):
    def make(**settings):
        return create_app({"DATABASE_URL": database_url, "TESTING": True, **settings}).test_client()

    return make


def test_keys_of_different_actors_never_meet(make_client):
    client = make_client(API_TOKENS=TOKENS)

    mine = client.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-a"}, headers=keyed(secret=WRITE_SECRET))
    theirs = client.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-b"},
                         headers=keyed(secret=OTHER_WRITE_SECRET))
    mine_again = client.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-a"},
                             headers=keyed(secret=WRITE_SECRET))

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine_again.json["mentor_id"] == "mentor-a" and mine_again.headers["Idempotent-Replayed"] == "true"
    assert sorted(mentor.mentor_id for mentor in MentorStatus.select()) == ["mentor-a", "mentor-b"]
    assert sorted(key.actor for key in IdempotencyKey.select()) == ["crm", "hr-sync"]


def test_a_request_refused_before_it_runs_keeps_nothing(make_client):
    client = make_client(API_TOKENS=TOKENS)
    client.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-001"},
                headers={"Authorization": f"Bearer {ADMIN_SECRET}"})

    # A write token may not erase a mentor once an admin token is configured: a 403.
    refused = client.delete("/api/v1/mentor-statuses/mentor-001", headers=keyed(secret=WRITE_SECRET))
    unauthenticated = client.post("/api/v1/mentor-statuses", json={"mentor_id": "x"}, headers=keyed())
    allowed = client.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-002"},
                          headers=keyed(secret=WRITE_SECRET))

    assert (refused.status_code, unauthenticated.status_code, allowed.status_code) == (403, 401, 201)
    assert [key.method for key in IdempotencyKey.select()] == ["POST"]


def test_a_request_over_the_rate_limit_keeps_nothing(make_client):
    client = make_client(RATE_LIMIT="1/hour")
    first = client.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-002"}, headers=keyed("first"))

    limited = client.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-003"}, headers=keyed())

    assert (first.status_code, limited.status_code) == (201, 429)
    assert [key.idempotency_key for key in IdempotencyKey.select()] == ["first"]
    assert MentorStatus.select().count() == 1


def test_a_server_error_is_not_kept_and_a_retry_runs_anew(client, monkeypatch):
    create_mentor(client)
    real = rules.update_mentor_status
    monkeypatch.setattr(rules, "update_mentor_status", lambda *args: (_ for _ in ()).throw(
        OperationalError("database is locked")))

    failed = client.put("/api/v1/mentor-statuses/mentor-001", json={"status": "inactive"}, headers=keyed())
    kept_after_failure = IdempotencyKey.select().count()
    monkeypatch.setattr(rules, "update_mentor_status", real)
    retried = client.put("/api/v1/mentor-statuses/mentor-001", json={"status": "inactive"}, headers=keyed())

    assert failed.status_code == 503
    assert kept_after_failure == 0
    assert retried.status_code == 200 and "Idempotent-Replayed" not in retried.headers
    assert retried.json["status"] == "inactive"


def test_a_write_and_its_key_commit_together_or_not_at_all(client, monkeypatch):
    """The response is stored as the write transaction's last statement: if that fails, the write
    that ran before it in the same transaction is rolled back with it."""
    def fail(*args):
        raise OperationalError("disk I/O error")

    monkeypatch.setattr(idempotency, "_keep", fail)
    response = client.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-002"}, headers=keyed())

    assert response.status_code == 503
    assert MentorStatus.select().count() == 0
    assert entries() == 0
    assert IdempotencyKey.select().count() == 0


def test_a_repeat_while_the_first_still_runs_is_a_409_with_retry_after(app, client):
    body = b'{"mentor_id": "mentor-002"}'
    outcome, _ = idempotency.claim("anonymous", KEY, Sent("POST", "/api/v1/mentor-statuses",
                                                          idempotency.hashlib.sha256(body).hexdigest()), 24)

    repeat = client.post("/api/v1/mentor-statuses", data=body, content_type="application/json", headers=keyed())
    other = client.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-003"}, headers=keyed())

    assert outcome == "claimed"
    assert repeat.status_code == 409 and repeat.headers["Retry-After"] == "1"
    assert other.status_code == 422  # another request with the key: 422 even while the first runs
    assert MentorStatus.select().count() == 0


def test_a_new_key_is_claimed_by_one_statement_and_a_known_one_is_read(app, monkeypatch):
    from mentor_status_service.db import database

    sent = Sent("POST", "/api/v1/mentor-statuses", "0" * 64)
    statements = []
    execute_sql = type(database.obj).execute_sql

    def counted(db, sql, *args, **kwargs):
        statements.append(sql)
        return execute_sql(db, sql, *args, **kwargs)

    monkeypatch.setattr(type(database.obj), "execute_sql", counted)

    first, _ = idempotency.claim("anonymous", KEY, sent, 24)
    claimed_with = len(statements)
    second, row = idempotency.claim("anonymous", KEY, sent, 24)

    assert (first, second) == ("claimed", "in flight") and row.idempotency_key == KEY
    assert claimed_with == 1 and "INSERT" in statements[0]


def test_a_claim_whose_request_died_is_taken_over_once_its_lease_ran_out(client):
    body = b'{"mentor_id": "mentor-002"}'
    idempotency.claim("anonymous", KEY, Sent("POST", "/api/v1/mentor-statuses",
                                             idempotency.hashlib.sha256(body).hexdigest()), 24)
    IdempotencyKey.update(lease_until=time.time() - 1).execute()

    retried = client.post("/api/v1/mentor-statuses", data=body, content_type="application/json", headers=keyed())
    again = client.post("/api/v1/mentor-statuses", data=body, content_type="application/json", headers=keyed())

    assert retried.status_code == 201 and "Idempotent-Replayed" not in retried.headers
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_request_whose_claim_was_taken_over_meanwhile_writes_nothing(client, monkeypatch):
    monkeypatch.setattr(idempotency, "_keep", lambda *args: 0)  # another request holds the key now

    response = client.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-002"}, headers=keyed())

    assert response.status_code == 409 and response.headers["Retry-After"] == "1"
    assert MentorStatus.select().count() == 0


def test_an_expired_key_runs_anew_and_the_prune_job_deletes_expired_keys(client, runner):
    create_mentor(client)
    client.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-002"}, headers=keyed())
    client.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-003"}, headers=keyed("fresh"))
    IdempotencyKey.update(expires_at=utc_now()).where(IdempotencyKey.idempotency_key == KEY).execute()

    reused = client.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-004"}, headers=keyed())
    IdempotencyKey.update(expires_at=utc_now()).where(IdempotencyKey.idempotency_key == KEY).execute()
    pruned = runner.invoke(args=["changes", "prune", "--older-than", "30"])

    assert reused.status_code == 201 and reused.json["mentor_id"] == "mentor-004"
    assert "pruned 1 expired idempotency keys" in pruned.output
    assert [key.idempotency_key for key in IdempotencyKey.select()] == ["fresh"]


def test_keys_expire_after_idempotency_ttl_h(make_client):
    client = make_client(IDEMPOTENCY_TTL_H=2)
    client.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-002"}, headers=keyed())

    [key] = IdempotencyKey.select()
    assert abs((key.expires_at - utc_now()).total_seconds() - 2 * 3600) < 5


@pytest.mark.parametrize("value", ["0", "-1", "x", "1.5", "8761"])
def test_a_bad_idempotency_ttl_h_refuses_to_start_naming_it(value):
    with pytest.raises(ConfigurationError, match="IDEMPOTENCY_TTL_H"):
        Config(environ={"IDEMPOTENCY_TTL_H": value})


def test_the_default_idempotency_ttl_h_is_24():
    assert Config(environ={}).IDEMPOTENCY_TTL_H == 24


def test_a_webhook_created_with_a_key_is_created_once_with_one_secret(make_client):
    client = make_client(API_TOKENS=TOKENS)
    admin = keyed(secret=ADMIN_SECRET)
    body = {"url": "https://93.184.215.14/hooks"}

    first = client.post("/api/v1/webhooks", json=body, headers=admin)
    second = client.post("/api/v1/webhooks", json=body, headers=admin)
    rotated = client.post(f"/api/v1/webhooks/{first.json['webhook_id']}/rotate-secret", headers=keyed(
        "rotate-1", ADMIN_SECRET))
    rotated_again = client.post(f"/api/v1/webhooks/{first.json['webhook_id']}/rotate-secret", headers=keyed(
        "rotate-1", ADMIN_SECRET))

    assert first.status_code == 201
    same_response(first, second)
    same_response(rotated, rotated_again)
    assert Webhook.select().count() == 1
    assert Webhook.get().secret == rotated.json["secret"]


def test_every_write_documents_the_header(client):
    document = client.get("/openapi.json").json
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method in ("post", "put", "delete"):
                names = [parameter.get("name") for parameter in operation.get("parameters", [])]
                assert "Idempotency-Key" in names, f"{method} {path}"
                assert "409" in operation["responses"] and "422" in operation["responses"], f"{method} {path}"
