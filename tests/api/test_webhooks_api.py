"""The webhook resource: admin-only management, secrets shown once, URLs that could reach inside refused,
replay and re-enable against pruning, and prune keeping what enabled webhooks still need."""
import base64
import datetime as dt
import socket

import pytest

from mentor_status_service import create_app
from mentor_status_service.changes import log as change_log
from mentor_status_service.changes.models import ChangeEntry
from mentor_status_service.config import Config, ConfigurationError
from mentor_status_service.webhooks.models import Webhook, WebhookDelivery

ADMIN_SECRET = "admin-secret-0123456789"
WRITE_SECRET = "write-secret-0123456789"
READ_SECRET = "read-secret-0123456789"
TOKENS = f"root:admin:{ADMIN_SECRET},hr-sync:write:{WRITE_SECRET},dashboard:read:{READ_SECRET}"
ADMIN = {"Authorization": f"Bearer {ADMIN_SECRET}"}
ALIAS = "/api/v1/mentor-statuses"
PUBLIC_URL = "https://93.184.215.14/hooks"  # a public address literal: nothing is resolved or called


@pytest.fixture
def make_client(database_url, app):
    def make(**settings):
        return create_app({"DATABASE_URL": database_url, "TESTING": True, **settings}).test_client()

    return make


@pytest.fixture
def admin(make_client):
    return make_client(API_TOKENS=TOKENS)


def age_entries(through):
    """Date the entries up to change `through` (every one: None) in 2020, once a reader has numbered them."""
    change_log.number_committed_entries()
    aged = ChangeEntry.update(at=dt.datetime(2020, 1, 1))
    (aged if through is None else aged.where(ChangeEntry.change_id <= through)).execute()


def create_mentor(client, mentor_id="mentor-001"):
    response = client.post("/api/v1/mentor-statuses", json={"mentor_id": mentor_id}, headers=ADMIN)
    assert response.status_code == 201, response.json


def create_webhook(client, **fields):
    response = client.post("/api/v1/webhooks", json={"url": PUBLIC_URL, **fields}, headers=ADMIN)
    assert response.status_code == 201, response.json
    return response.json


@pytest.mark.parametrize("prefix", ["", ALIAS])
def test_create_returns_the_webhook_with_its_secret_once_and_stores_it(admin, prefix):
    response = admin.post(f"{prefix}/api/v1/webhooks", headers=ADMIN, json={
        "url": PUBLIC_URL, "resource": "mentor_status", "description": "matching service"})

    assert response.status_code == 201, response.json
    created = response.json
    assert created["webhook_id"].startswith("wh-") and created["status"] == "enabled"
    assert response.headers["Location"] == f"/api/v1/webhooks/{created['webhook_id']}"
    assert (created["url"], created["resource"], created["description"]) == (
        PUBLIC_URL, "mentor_status", "matching service")
    assert created["after"] == 0 and created["disabled_reason"] is None
    assert created["secret"].startswith("whsec_")
    assert 24 <= len(base64.b64decode(created["secret"][len("whsec_"):])) <= 64
    shown = admin.get(f"{prefix}/api/v1/webhooks/{created['webhook_id']}", headers=ADMIN)
    assert shown.status_code == 200 and "secret" not in shown.json
    assert shown.json == {name: value for name, value in created.items() if name != "secret"}
    listed = admin.get(f"{prefix}/api/v1/webhooks", headers=ADMIN).json
    assert listed["data"] == [shown.json] and listed["pagination"] == {"page": 1, "limit": 20, "total": 1}
    assert Webhook.get_by_id(created["webhook_id"]).secret == created["secret"]


def test_a_new_webhook_starts_at_the_feeds_head(admin):
    create_mentor(admin, "mentor-001")
    create_mentor(admin, "mentor-002")

    assert create_webhook(admin)["after"] == 2


@pytest.mark.parametrize("body, field", [
    ({}, "url"), ({"url": 5}, "url"), ({"url": PUBLIC_URL, "resource": "mentor"}, "resource"),
    ({"url": PUBLIC_URL, "description": "x" * 201}, "description"), ({"url": PUBLIC_URL, "secret": "x"}, "secret"),
    ({"url": PUBLIC_URL, "status": "enabled"}, "status")])
def test_create_with_a_bad_field_is_422_naming_it(admin, body, field):
    response = admin.post("/api/v1/webhooks", json=body, headers=ADMIN)

    assert response.status_code == 422 and field in response.json["errors"]["json"]
    assert Webhook.select().count() == 0


REFUSED_URLS = [
    "http://93.184.215.14/hooks",  # http without WEBHOOK_ALLOW_HTTP
    "ftp://93.184.215.14/hooks",
    "https://127.0.0.1/hooks", "https://[::1]/hooks", "https://0.0.0.0/hooks",  # loopback, unspecified
    "https://10.1.2.3/hooks", "https://192.168.0.10/hooks", "https://172.16.5.4/hooks",  # private
    "https://[fd00::1]/hooks", "https://100.64.0.1/hooks",  # unique local, shared address space
    "https://169.254.169.254/latest/meta-data", "https://[fe80::1]/hooks",  # link-local (cloud metadata)
    "https://224.0.0.1/hooks", "https://[ff02::1]/hooks",  # multicast
    "https://[::ffff:127.0.0.1]/hooks",  # loopback written as IPv6
    # IPv6 that carries a private IPv4: NAT64, 6to4, IPv4-compatible
    "https://[64:ff9b::a9fe:a9fe]/hooks", "https://[2002:7f00:1::1]/hooks", "https://[::10.0.0.1]/hooks",
    "https://user:pass@93.184.215.14/hooks", "https://user@93.184.215.14/hooks",  # user info
    "https://localhost/hooks", "https://localhost:8443/hooks",  # a name that resolves to loopback
    "https:///hooks", "https://93.184.215.14/hooks#x", "https://93.184.215.14:99999/hooks", "not a url",
    "https://no-such-host.invalid/hooks",  # a name that does not resolve
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_urls_that_could_reach_inside_are_refused_with_422_naming_url(admin, url):
    response = admin.post("/api/v1/webhooks", json={"url": url}, headers=ADMIN)

    assert response.status_code == 422, response.json
    assert list(response.json["errors"]["json"]) == ["url"]
    assert Webhook.select().count() == 0


def test_a_name_that_resolves_to_a_private_address_is_refused(admin, monkeypatch):
    real = socket.getaddrinfo

    def resolver(host, *args, **kwargs):
        if host == "hooks.example.org":  # a public-looking name with a private address behind it
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 443))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    response = admin.post("/api/v1/webhooks", json={"url": "https://hooks.example.org/x"}, headers=ADMIN)

    message = response.json["errors"]["json"]["url"][0]
    assert response.status_code == 422 and "hooks.example.org" in message and "10.0.0.7" not in message


def test_http_and_private_addresses_are_accepted_only_when_the_operator_allows_them(make_client):
    client = make_client(API_TOKENS=TOKENS, WEBHOOK_ALLOW_HTTP=True, WEBHOOK_ALLOW_PRIVATE=True)

    for url in ("http://127.0.0.1:9/hooks", "http://localhost/hooks", "https://10.0.0.1/hooks"):
        response = client.post("/api/v1/webhooks", json={"url": url}, headers=ADMIN)
        assert response.status_code == 201, response.json
    refused = client.post("/api/v1/webhooks", json={"url": "http://u:p@127.0.0.1/hooks"}, headers=ADMIN)
    assert refused.status_code == 422


def test_update_changes_only_what_was_sent_and_checks_a_new_url(admin):
    webhook = create_webhook(admin, resource="pause_record", description="hr")
    path = f"/api/v1/webhooks/{webhook['webhook_id']}"

    response = admin.put(path, json={"resource": None, "description": "hr sync"}, headers=ADMIN)
    assert response.status_code == 200
    assert (response.json["resource"], response.json["description"], response.json["url"]) == (
        None, "hr sync", PUBLIC_URL)
    refused = admin.put(path, json={"url": "https://192.168.1.1/"}, headers=ADMIN)
    assert refused.status_code == 422 and "url" in refused.json["errors"]["json"]
    for read_only in ("webhook_id", "after", "secret", "created_at", "disabled_reason"):
        response = admin.put(path, json={read_only: "x"}, headers=ADMIN)
        assert response.status_code == 422 and read_only in response.json["errors"]["json"]
    assert Webhook.get_by_id(webhook["webhook_id"]).url == PUBLIC_URL


def test_disable_then_enable_resumes_where_it_stopped_with_retries_afresh(admin):
    webhook = create_webhook(admin)
    path = f"/api/v1/webhooks/{webhook['webhook_id']}"
    create_mentor(admin)

    disabled = admin.put(path, json={"status": "disabled"}, headers=ADMIN).json
    assert disabled["status"] == "disabled" and disabled["disabled_reason"]
    Webhook.update(failed_attempts=3, next_attempt_at=9e9).execute()
    enabled = admin.put(path, json={"status": "enabled"}, headers=ADMIN).json

    assert enabled["status"] == "enabled" and enabled["disabled_reason"] is None and enabled["after"] == 0
    stored = Webhook.get_by_id(webhook["webhook_id"])
    assert (stored.failed_attempts, stored.next_attempt_at) == (0, None)


def test_delete_removes_the_webhook_and_its_delivery_log(admin):
    webhook = create_webhook(admin)
    path = f"/api/v1/webhooks/{webhook['webhook_id']}"
    WebhookDelivery.create(webhook_id=webhook["webhook_id"], change_id=1, attempt=1, at=dt.datetime(2026, 1, 1),
                           status_code=200, error=None, duration_ms=3)

    response = admin.delete(path, headers=ADMIN)

    assert response.status_code == 200
    assert response.json == {"deleted": True, "webhook_id": webhook["webhook_id"]}
    assert Webhook.select().count() == WebhookDelivery.select().count() == 0
    for method in ("GET", "PUT", "DELETE"):
        assert admin.open(path, method=method, json={} if method == "PUT" else None,
                          headers=ADMIN).status_code == 404
    assert admin.post(path + "/rotate-secret", headers=ADMIN).status_code == 404
    assert admin.post(path + "/replay", json={"after": 0}, headers=ADMIN).status_code == 404
    assert admin.get(path + "/deliveries", headers=ADMIN).status_code == 404


def test_rotate_secret_gives_a_new_one_and_keeps_the_old_for_a_day(admin):
    webhook = create_webhook(admin)

    response = admin.post(f"/api/v1/webhooks/{webhook['webhook_id']}/rotate-secret", headers=ADMIN)

    assert response.status_code == 201
    rotated = response.json
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != webhook["secret"]
    stored = Webhook.get_by_id(webhook["webhook_id"])
    assert (stored.secret, stored.previous_secret) == (rotated["secret"], webhook["secret"])
    expires = dt.datetime.fromisoformat(rotated["previous_secret_expires_at"].rstrip("Z"))
    assert abs(expires - dt.datetime.utcnow() - dt.timedelta(hours=24)) < dt.timedelta(minutes=1)


def test_replay_moves_the_position_back_and_a_pruned_one_is_410_with_the_head(admin, runner):
    webhook = create_webhook(admin)
    path = f"/api/v1/webhooks/{webhook['webhook_id']}"
    for number in range(1, 5):
        create_mentor(admin, f"mentor-{number:03d}")
    admin.put(path, json={"status": "disabled"}, headers=ADMIN)  # a disabled webhook holds nothing back
    age_entries(through=2)
    assert "pruned 2 change entries" in runner.invoke(args=["changes", "prune", "--older-than", "30"]).output

    replayed = admin.post(path + "/replay", json={"after": 2}, headers=ADMIN)
    gone = admin.post(path + "/replay", json={"after": 1}, headers=ADMIN)

    assert replayed.status_code == 200 and replayed.json["after"] == 2
    assert Webhook.get_by_id(webhook["webhook_id"]).position_version == 1
    assert gone.status_code == 410 and gone.json["head"] == 4
    for after in (-1, "3", None, 1.5):
        assert admin.post(path + "/replay", json={"after": after}, headers=ADMIN).status_code == 422


def test_re_enabling_a_webhook_left_behind_a_prune_is_410(admin, runner):
    webhook = create_webhook(admin)
    path = f"/api/v1/webhooks/{webhook['webhook_id']}"
    admin.put(path, json={"status": "disabled"}, headers=ADMIN)
    for number in range(1, 4):
        create_mentor(admin, f"mentor-{number:03d}")
    age_entries(through=2)
    runner.invoke(args=["changes", "prune", "--older-than", "30"])

    response = admin.put(path, json={"status": "enabled"}, headers=ADMIN)

    assert response.status_code == 410 and response.json["head"] == 3
    assert Webhook.get_by_id(webhook["webhook_id"]).status == "disabled"


def test_prune_keeps_every_entry_an_enabled_webhook_has_yet_to_receive(admin, runner):
    for number in range(1, 3):
        create_mentor(admin, f"mentor-{number:03d}")
    webhook = create_webhook(admin)  # after 2
    for number in range(3, 6):
        create_mentor(admin, f"mentor-{number:03d}")
    age_entries(through=None)

    result = runner.invoke(args=["changes", "prune", "--older-than", "30"])

    assert "pruned 2 change entries" in result.output
    assert [row.change_id for row in ChangeEntry.select().order_by(ChangeEntry.change_id)] == [3, 4, 5]
    Webhook.update(delivered_through=4).execute()
    runner.invoke(args=["changes", "prune", "--older-than", "30"])
    assert [row.change_id for row in ChangeEntry.select()] == [5]
    admin.put(f"/api/v1/webhooks/{webhook['webhook_id']}", json={"status": "disabled"}, headers=ADMIN)
    runner.invoke(args=["changes", "prune", "--older-than", "30"])
    assert ChangeEntry.select().count() == 0


def test_deliveries_are_listed_newest_first_in_the_list_envelope(admin):
    webhook = create_webhook(admin)
    for attempt, (status_code, error) in enumerate([(None, "timed out"), (500, None), (200, None)], start=1):
        WebhookDelivery.create(webhook_id=webhook["webhook_id"], change_id=7, attempt=attempt,
                               at=dt.datetime(2026, 1, 1, 0, 0, attempt), status_code=status_code, error=error,
                               duration_ms=10 * attempt)

    response = admin.get(f"/api/v1/webhooks/{webhook['webhook_id']}/deliveries", query_string={"limit": 2},
                         headers=ADMIN)

    assert response.status_code == 200
    assert response.json == {"data": [
        {"change_id": 7, "attempt": 3, "at": "2026-01-01T00:00:03Z", "status_code": 200, "error": None,
         "duration_ms": 30},
        {"change_id": 7, "attempt": 2, "at": "2026-01-01T00:00:02Z", "status_code": 500, "error": None,
         "duration_ms": 20}], "pagination": {"page": 1, "limit": 2, "total": 3}}
    assert 'rel="next"' in response.headers["Link"]


ENDPOINTS = [("GET", "/api/v1/webhooks", None), ("POST", "/api/v1/webhooks", {"url": PUBLIC_URL}),
             ("GET", "/api/v1/webhooks/wh-1", None), ("PUT", "/api/v1/webhooks/wh-1", {"status": "enabled"}),
             ("DELETE", "/api/v1/webhooks/wh-1", None), ("POST", "/api/v1/webhooks/wh-1/rotate-secret", None),
             ("POST", "/api/v1/webhooks/wh-1/replay", {"after": 0}),
             ("GET", "/api/v1/webhooks/wh-1/deliveries", None)]


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
@pytest.mark.parametrize("prefix", ["", ALIAS])
def test_only_an_admin_token_manages_webhooks(make_client, method, path, body, prefix):
    client = make_client(API_TOKENS=TOKENS)
    path = prefix + path

    for headers in ({}, {"Authorization": "Bearer not-a-configured-secret"}):
        response = client.open(path, method=method, json=body, headers=headers)
        assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
    for secret in (READ_SECRET, WRITE_SECRET):
        response = client.open(path, method=method, json=body, headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 403 and response.json["message"]
    assert client.open(path, method=method, json=body, headers=ADMIN).status_code in (200, 201, 404)


@pytest.mark.parametrize("settings", [{}, {"API_TOKENS": f"hr-sync:write:{WRITE_SECRET}"},
                                      {"API_WRITE_TOKENS": WRITE_SECRET}])
@pytest.mark.parametrize("method, path, body", ENDPOINTS)
def test_with_no_admin_token_configured_every_webhook_endpoint_is_403_saying_how(make_client, settings, method,
                                                                                path, body):
    client = make_client(**settings)

    response = client.open(path, method=method, json=body, headers={"Authorization": f"Bearer {WRITE_SECRET}"})

    assert response.status_code == 403 and "API_TOKENS" in response.json["message"]
    assert Webhook.select().count() == 0


def test_a_refusal_comes_before_the_body_is_looked_at(make_client):
    for settings, headers, code in (({}, {}, 403), ({"API_TOKENS": TOKENS}, {}, 401),
                                    ({"API_TOKENS": TOKENS}, {"Authorization": f"Bearer {WRITE_SECRET}"}, 403)):
        client = make_client(**settings)
        response = client.post("/api/v1/webhooks", data="not json", content_type="text/plain", headers=headers)
        assert response.status_code == code, (settings, response.json)
    admin = make_client(API_TOKENS=TOKENS)
    assert admin.post("/api/v1/webhooks", data="x", content_type="text/plain", headers=ADMIN).status_code == 415


def test_every_webhook_operation_is_in_the_openapi_document(admin):
    spec = admin.get("/openapi.json").json
    operations = {operation["operationId"] for path, item in spec["paths"].items() if "/webhooks" in path
                  for operation in item.values() if isinstance(operation, dict) and "operationId" in operation}

    assert operations == {"createWebhook", "listWebhooks", "getWebhook", "updateWebhook", "deleteWebhook",
                          "rotateWebhookSecret", "replayWebhook", "listWebhookDeliveries"}
    assert "/api/v1/mentor-statuses/api/v1/webhooks" not in spec["paths"]  # aliases are not documented twice
    schemas = spec["components"]["schemas"]
    assert {"Webhook", "WebhookWithSecret", "WebhookCreate", "WebhookUpdate", "WebhookDelivery"} <= set(schemas)


@pytest.mark.parametrize("environ, message", [
    ({"WEBHOOK_RETRY_SCHEDULE_S": "5,soon"}, "WEBHOOK_RETRY_SCHEDULE_S entry 2"),
    ({"WEBHOOK_RETRY_SCHEDULE_S": "-1"}, "WEBHOOK_RETRY_SCHEDULE_S entry 1"),
    ({"WEBHOOK_RETRY_SCHEDULE_S": " , "}, "at least one delay"),
    ({"WEBHOOK_ALLOW_HTTP": "yes"}, "WEBHOOK_ALLOW_HTTP"), ({"WEBHOOK_ALLOW_PRIVATE": "1"}, "WEBHOOK_ALLOW_PRIVATE"),
    ({"WEBHOOK_TIMEOUT_S": "0"}, "WEBHOOK_TIMEOUT_S"),
    ({"WEBHOOK_DELIVERY_THREADS": "many"}, "WEBHOOK_DELIVERY_THREADS")])
def test_a_webhook_setting_the_service_cannot_use_stops_it_naming_the_setting(environ, message):
    with pytest.raises(ConfigurationError, match=message):
        Config(environ)


def test_the_webhook_settings_default_as_documented():
    config = Config({})

    assert config.WEBHOOK_RETRY_SCHEDULE_S == (5, 300, 1800, 7200, 18000, 36000, 36000)
    assert sum(config.WEBHOOK_RETRY_SCHEDULE_S) / 3600 == pytest.approx(27.6, abs=0.1)  # "about 28 hours"
    assert (config.WEBHOOK_TIMEOUT_S, config.WEBHOOK_ALLOW_HTTP, config.WEBHOOK_ALLOW_PRIVATE) == (10, False, False)
    assert Config({"WEBHOOK_RETRY_SCHEDULE_S": "0.5, 2"}).WEBHOOK_RETRY_SCHEDULE_S == (0.5, 2)
