"""Named tokens: who may read, who may write, and the refusals of a bad token configuration."""
import hashlib
import os
import subprocess
import sys

import pytest
from factories import create_mentor, create_pause
from servers import REPO_ROOT

from mentor_status_service import create_app
from mentor_status_service.config import ConfigurationError, parse_public_reads, parse_tokens
from mentor_status_service.db import database, migrate
from mentor_status_service.pausing.models import MentorStatus

READ_SECRET = "read-secret-0123456789"
WRITE_SECRET = "write-secret-0123456789"
LEGACY_SECRET = "legacy-secret-0123456789"
TOKENS = f"dashboard:read:{READ_SECRET},hr-sync:write:{WRITE_SECRET}"
ALIAS = "/api/v1/mentor-statuses"

READS = [("GET", "/api/v1/mentor-statuses"), ("GET", "/api/v1/mentor-statuses/mentor-001"),
         ("GET", "/api/v1/mentor-statuses/mentor-001/history"), ("GET", "/api/v1/pause-records"),
         ("GET", "/api/v1/pause-records/pause-rec-0001"), ("GET", "/api/v1/changes"),
         ("HEAD", "/api/v1/mentor-statuses/mentor-001")]
WRITES = [("POST", "/api/v1/mentor-statuses", {"mentor_id": "mentor-002"}),
          ("PUT", "/api/v1/mentor-statuses/mentor-001", {"metadata": {"v": 1}}),
          ("POST", "/api/v1/pause-records", {"mentor_id": "mentor-001", "start_date": "2025-01-01",
                                             "end_date": "2025-01-02"}),
          ("PUT", "/api/v1/pause-records/pause-rec-0001", {"reason": "travel"}),
          ("DELETE", "/api/v1/pause-records/pause-rec-0001", None),
          ("DELETE", "/api/v1/mentor-statuses/mentor-001", None)]
PUBLIC = ["/healthz", "/readyz", "/openapi.json", "/docs"]


def digest(secret):
    return hashlib.sha256(secret.encode()).digest()


def bearer(secret):
    return {"Authorization": f"Bearer {secret}"} if secret else {}


def both_forms(path):
    return [path, ALIAS + path]


@pytest.fixture
def make_client(database_url, app):
    """A client of an app with these access settings, on the test's database holding one mentor
    with one pause record."""
    create_mentor(app.test_client())
    create_pause(app.test_client())

    def make(**settings):
        return create_app({"DATABASE_URL": database_url, "TESTING": True, **settings}).test_client()

    return make


@pytest.mark.parametrize("public_reads", ["true", "false"])
@pytest.mark.parametrize("method, path", READS)
@pytest.mark.parametrize("form", [0, 1])
def test_reads_need_a_token_only_when_reads_are_protected(make_client, public_reads, method, path, form):
    client = make_client(API_TOKENS=TOKENS, API_PUBLIC_READS=public_reads)
    path = both_forms(path)[form]

    anonymous = client.open(path, method=method)
    wrong = client.open(path, method=method, headers=bearer("not-a-configured-secret"))

    assert anonymous.status_code == (200 if public_reads == "true" else 401)
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"] == "Bearer"
    for secret in (READ_SECRET, WRITE_SECRET):
        assert client.open(path, method=method, headers=bearer(secret)).status_code == 200


@pytest.mark.parametrize("public_reads", ["true", "false"])
@pytest.mark.parametrize("method, path, body", WRITES)
@pytest.mark.parametrize("form", [0, 1])
def test_writes_need_a_write_token_and_a_read_token_is_403(make_client, public_reads, method, path, body, form):
    client = make_client(API_TOKENS=TOKENS, API_PUBLIC_READS=public_reads)
    path = both_forms(path)[form]

    for headers in ({}, bearer("not-a-configured-secret"), {"Authorization": f"Basic {WRITE_SECRET}"}):
        refused = client.open(path, method=method, json=body, headers=headers)
        assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
        assert refused.json["code"] == 401 and refused.json["message"]
    read_only = client.open(path, method=method, json=body, headers=bearer(READ_SECRET))
    assert read_only.status_code == 403 and read_only.json["message"] == "The token 'dashboard' may only read."

    allowed = client.open(path, method=method, json=body, headers=bearer(WRITE_SECRET))
    assert allowed.status_code in (200, 201), allowed.json


@pytest.mark.parametrize("path", PUBLIC)
def test_probes_and_the_api_document_stay_public_when_reads_are_protected(make_client, path):
    client = make_client(API_TOKENS=TOKENS, API_PUBLIC_READS="false")

    assert client.get(path).status_code == 200


def test_with_no_token_configured_everything_is_public_and_authorization_is_ignored(make_client):
    client = make_client()

    assert client.get("/api/v1/mentor-statuses", headers=bearer("anything-at-all")).status_code == 200
    response = client.put("/api/v1/mentor-statuses/mentor-001", json={"metadata": {"v": 2}},
                          headers=bearer("anything-at-all"))
    assert response.status_code == 200
    [entry] = client.get("/api/v1/changes", query_string={"after": 3}).json["data"]
    assert entry["actor"] == "anonymous"


@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer wrong", "Basic hr-sync", WRITE_SECRET,
                                           f"Bearer {WRITE_SECRET}-and-more", "Bearer \u00e9"])
def test_a_refused_write_is_401_before_its_body_is_read_or_the_database_touched(make_client, authorization):
    client = make_client(API_TOKENS=TOKENS)
    headers = {"Authorization": authorization} if authorization is not None else {}

    response = client.post("/api/v1/mentor-statuses", data="not even json", content_type="text/plain",
                           headers=headers)

    assert response.status_code == 401
    assert MentorStatus.select().count() == 1


@pytest.mark.parametrize("authorization", [f"Bearer {WRITE_SECRET}", f"bearer {LEGACY_SECRET}",
                                           f"BEARER {LEGACY_SECRET}"])
def test_write_tokens_of_either_variable_pass_whatever_the_scheme_case(make_client, authorization):
    client = make_client(API_TOKENS=TOKENS, API_WRITE_TOKENS=f"{LEGACY_SECRET}")

    response = client.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-009"},
                           headers={"Authorization": authorization})

    assert response.status_code == 201


def test_the_actor_of_a_change_is_the_name_of_its_token(make_client):
    client = make_client(API_TOKENS=TOKENS, API_WRITE_TOKENS=f"x{LEGACY_SECRET},{LEGACY_SECRET}")

    client.put("/api/v1/mentor-statuses/mentor-001", json={"metadata": {"by": "hr"}}, headers=bearer(WRITE_SECRET))
    client.put("/api/v1/mentor-statuses/mentor-001", json={"metadata": {"by": "legacy"}},
               headers=bearer(LEGACY_SECRET))

    entries = client.get("/api/v1/changes", query_string={"after": 3}).json["data"]
    assert [(entry["actor"], entry["after"]["metadata"]) for entry in entries] == [
        ("hr-sync", {"by": "hr"}), ("write-2", {"by": "legacy"})]


# Token configuration

def test_tokens_are_parsed_with_their_names_and_scopes():
    tokens = parse_tokens(f" dashboard:read:{READ_SECRET} ,,hr.sync-2:write:{WRITE_SECRET}:with:colons",
                          "first-legacy-0123456789, ,second-legacy-0123456789")

    assert [(token.name, token.scope, token.digest) for token in tokens] == [
        ("dashboard", "read", digest(READ_SECRET)), ("hr.sync-2", "write", digest(f"{WRITE_SECRET}:with:colons")),
        ("write-1", "write", digest("first-legacy-0123456789")),
        ("write-2", "write", digest("second-legacy-0123456789"))]
    assert READ_SECRET not in repr(tokens) and all(READ_SECRET not in str(field) for field in tokens[0])


@pytest.mark.parametrize("api_tokens, api_write_tokens, message", [
    (f"dashboard:{READ_SECRET}", "", "API_TOKENS entry 1: not of the form name:scope:secret"),
    (f"{READ_SECRET}:{WRITE_SECRET}:x", "", "API_TOKENS entry 1: the scope must be read, write or admin"),
    (f"ok:read:{READ_SECRET},Dash:read:{WRITE_SECRET}", "", "API_TOKENS entry 2: the name must be"),
    (f"-dash:read:{READ_SECRET}", "", "API_TOKENS entry 1: the name must be"),
    (f"{'n' * 65}:read:{READ_SECRET}", "", "API_TOKENS entry 1: the name must be"),
    (READ_SECRET, "", "API_TOKENS entry 1: not of the form name:scope:secret"),
    ("dash:owner:" + READ_SECRET, "", "API_TOKENS entry 1: the scope must be read, write or admin"),
    ("dash:read:too-short-1234", "", "API_TOKENS entry 1 (dash): the secret must be 16 to 256"),
    ("dash:read:" + "s" * 257, "", "API_TOKENS entry 1 (dash): the secret must be 16 to 256"),
    ("dash:read:with space inside it", "", "API_TOKENS entry 1 (dash): the secret must be"),
    ("dash:read:caf\u00e9-not-ascii-secret", "", "API_TOKENS entry 1 (dash): the secret must be"),
    (f"dash:read:{READ_SECRET},dash:write:{WRITE_SECRET}", "", "API_TOKENS entry 2: the name dash is already used"),
    (f"a:read:{READ_SECRET},b:write:{READ_SECRET}", "", "API_TOKENS entry 2: its secret is already used by "
                                                        "API_TOKENS entry 1"),
    (f"a:read:{READ_SECRET}", READ_SECRET, "API_WRITE_TOKENS entry 1: its secret is already used by API_TOKENS"),
    (f"write-1:read:{READ_SECRET}", "legacy-secret-0123", "API_WRITE_TOKENS entry 1: the name write-1 is already used"),
    ("", "one-secret-0123456789,one-secret-0123456789", "API_WRITE_TOKENS entry 2: its secret is already used by "
                                                        "API_WRITE_TOKENS entry 1"),
    ("", f"{WRITE_SECRET},legacy-secret", "API_WRITE_TOKENS entry 2: the secret must be 16 to 256 printable ASCII"),
    ("", f"{WRITE_SECRET},with space inside it", "API_WRITE_TOKENS entry 2: the secret must be 16 to 256"),
    ("", "s" * 257, "API_WRITE_TOKENS entry 1: the secret must be 16 to 256"),
])
def test_a_malformed_or_duplicate_token_is_refused_by_position_without_its_secret(api_tokens, api_write_tokens,
                                                                                   message):
    with pytest.raises(ConfigurationError) as refusal:
        parse_tokens(api_tokens, api_write_tokens)

    assert str(refusal.value).startswith(message)
    for secret in (READ_SECRET, WRITE_SECRET, "too-short-1234", "with space inside it", "legacy-secret", "s" * 257):
        assert secret not in str(refusal.value)


@pytest.mark.parametrize("value, tokens, message", [
    ("maybe", ("token",), "API_PUBLIC_READS must be true or false"),
    ("0", ("token",), "API_PUBLIC_READS must be true or false"),
    ("false", (), "API_PUBLIC_READS=false needs at least one token"),
])
def test_public_reads_is_true_or_false_and_false_needs_a_token(value, tokens, message):
    with pytest.raises(ConfigurationError, match=message):
        parse_public_reads(value, tokens)


@pytest.mark.parametrize("value, expected", [("", True), ("true", True), ("False", False)])
def test_public_reads_defaults_to_true(value, expected):
    assert parse_public_reads(value, ("token",)) is expected


@pytest.mark.parametrize("command", [["flask", "--app", "wsgi", "resume-due", "--dry-run"],
                                     ["gunicorn", "-c", "gunicorn.conf.py", "--bind", "127.0.0.1:0", "wsgi:app"]])
def test_the_cli_and_the_server_refuse_to_start_without_printing_a_secret(tmp_path, command):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/refused.db",
           "API_TOKENS": f"dashboard:read:{READ_SECRET},oops:{WRITE_SECRET}"}
    executable = os.path.join(os.path.dirname(sys.executable), command[0])

    result = subprocess.run([executable, *command[1:]], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=60)

    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "API_TOKENS entry 2: not of the form name:scope:secret" in output
    assert READ_SECRET not in output and WRITE_SECRET not in output


def test_an_app_with_bad_access_settings_is_never_built(database_url):
    with pytest.raises(ConfigurationError):
        create_app({"DATABASE_URL": database_url, "API_PUBLIC_READS": "false"})
    database.close()
    migrate()  # the database handle still works for the rest of the test run


def test_metrics_need_a_token_when_reads_are_protected(make_client):
    protected = make_client(API_TOKENS=TOKENS, API_PUBLIC_READS="false")
    public = make_client(API_TOKENS=TOKENS)

    assert protected.get("/metrics").status_code == 401
    assert protected.get("/metrics", headers=bearer(READ_SECRET)).status_code == 200
    assert public.get("/metrics").status_code == 200


def test_a_cors_preflight_needs_no_token_when_reads_are_protected(make_client):
    client = make_client(API_TOKENS=TOKENS, API_PUBLIC_READS="false", CORS_ORIGINS="https://dash.example")

    response = client.options("/api/v1/mentor-statuses", headers={
        "Origin": "https://dash.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Authorization"})

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://dash.example"


def test_the_access_line_names_the_actor(make_client, capsys):
    client = make_client(API_TOKENS=TOKENS)
    capsys.readouterr()

    client.get("/api/v1/mentor-statuses", headers=bearer(READ_SECRET))
    client.get("/api/v1/mentor-statuses")

    lines = capsys.readouterr().out.splitlines()
    assert [line.rsplit(" ", 1)[1] for line in lines] == ["dashboard", "anonymous"]


def test_an_admin_token_may_write_and_read(make_client):
    admin_secret = "admin-secret-0123456789"
    client = make_client(API_TOKENS=f"{TOKENS},ops:admin:{admin_secret}", API_PUBLIC_READS="false")
    created = client.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-009"}, headers=bearer(admin_secret))
    assert created.status_code == 201, created.json
    assert client.get("/api/v1/changes", headers=bearer(admin_secret)).json["data"][-1]["actor"] == "ops"


ADMIN_SECRET = "admin-secret-0123456789"


@pytest.mark.parametrize("form", [0, 1])
def test_once_an_admin_token_exists_only_it_may_delete_a_mentor(make_client, form):
    client = make_client(API_TOKENS=f"{TOKENS},ops:admin:{ADMIN_SECRET}")
    mentor, unknown = (both_forms(f"/api/v1/mentor-statuses/{mentor_id}")[form] for mentor_id in ("mentor-001",
                                                                                                  "nobody"))

    for path in (mentor, unknown):  # refused before the database is read: an unknown mentor too
        refused = client.delete(path, headers=bearer(WRITE_SECRET))
        assert refused.status_code == 403 and refused.json == {
            "code": 403, "status": "Forbidden",
            "message": "Deleting a mentor erases its history: it needs an admin token, and 'hr-sync' is not one."}
        assert client.delete(path, headers=bearer(READ_SECRET)).status_code == 403
        assert client.delete(path).status_code == 401
    assert MentorStatus.select().count() == 1
    assert client.delete(unknown, headers=bearer(ADMIN_SECRET)).status_code == 404
    assert client.delete(mentor, headers=bearer(ADMIN_SECRET)).status_code == 200
    assert MentorStatus.select().count() == 0


def test_an_erasure_by_a_write_token_is_refused_without_touching_the_database(tmp_path):
    client = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/no-such-directory/x.db",
                         "API_TOKENS": f"{TOKENS},ops:admin:{ADMIN_SECRET}"}).test_client()
    try:
        assert client.delete("/api/v1/mentor-statuses/mentor-001", headers=bearer(WRITE_SECRET)).status_code == 403
        assert client.delete("/api/v1/mentor-statuses/mentor-001", headers=bearer(ADMIN_SECRET)).status_code == 503
    finally:
        database.close()


def test_without_an_admin_token_a_write_token_still_deletes_a_mentor_and_its_pause_records(make_client):
    client = make_client(API_TOKENS=TOKENS)

    assert client.delete("/api/v1/pause-records/pause-rec-0001", headers=bearer(WRITE_SECRET)).status_code == 200
    assert client.delete("/api/v1/mentor-statuses/mentor-001", headers=bearer(WRITE_SECRET)).status_code == 200
    assert MentorStatus.select().count() == 0


def test_with_an_admin_token_a_write_token_still_deletes_a_pause_record(make_client):
    client = make_client(API_TOKENS=f"{TOKENS},ops:admin:{ADMIN_SECRET}")

    assert client.delete("/api/v1/pause-records/pause-rec-0001", headers=bearer(WRITE_SECRET)).status_code == 200


def test_no_secret_stays_in_the_app_configuration(database_url):
    legacy = "legacy-write-secret-0123456789"
    app = create_app({"DATABASE_URL": database_url, "API_TOKENS": f"{TOKENS},ops:admin:{ADMIN_SECRET}",
                      "API_WRITE_TOKENS": legacy})

    assert [token.name for token in app.config["TOKENS"]] == ["dashboard", "hr-sync", "ops", "write-1"]
    for key, value in app.config.items():
        for secret in (READ_SECRET, WRITE_SECRET, ADMIN_SECRET, legacy):
            assert secret not in repr(value) and secret not in str(value), key
    for token in app.config["TOKENS"]:
        assert all(secret not in str(field) for field in token for secret in (READ_SECRET, WRITE_SECRET))
    assert app.test_client().post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-009"},
                                  headers=bearer(legacy)).status_code == 201  # still a write token


def test_a_short_legacy_write_secret_refuses_to_start(database_url):
    with pytest.raises(ConfigurationError, match="API_WRITE_TOKENS entry 1: the secret must be 16 to 256") as refusal:
        create_app({"DATABASE_URL": database_url, "API_WRITE_TOKENS": "x"})
    assert "'x'" not in str(refusal.value)


OPEN_WARNING = "WARNING mentor_status_service.web.auth"


@pytest.mark.parametrize("settings, warned", [({}, True), ({"API_WRITE_TOKENS": ""}, True),
                                              ({"API_TOKENS": TOKENS}, False),
                                              ({"API_WRITE_TOKENS": LEGACY_SECRET}, False)])
def test_with_no_token_the_app_warns_at_start_that_every_write_is_public(database_url, capsys, monkeypatch,
                                                                         settings, warned):
    monkeypatch.setenv("LOG_FORMAT", "text")
    create_app({"DATABASE_URL": database_url, **settings})

    warnings = [line for line in capsys.readouterr().out.splitlines() if OPEN_WARNING in line]
    assert len(warnings) == int(warned)
    if warned:
        assert "every write is public" in warnings[0] and "API_TOKENS" in warnings[0]
