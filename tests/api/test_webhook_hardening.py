"""Webhooks against an attacker and a careless operator: URLs of the IPv4-translated range and port
0 refused without naming the address behind a name, a refused connection told from a timeout, the
settings that open the SSRF rules loud at start and refused on a platform, secrets encrypted at
rest with SECRETS_KEY, a rotation that retires the old secret at once, and /metrics that lists
webhook ids to an admin only."""
import socket
import time

import pytest
from cryptography.fernet import Fernet
from servers import free_port

from mentor_status_service import create_app
from mentor_status_service.config import Config, ConfigurationError
from mentor_status_service.db import database, utc_now
from mentor_status_service.webhooks.client import Client
from mentor_status_service.webhooks.delivery import Settings
from mentor_status_service.webhooks.messages import signing_secrets
from mentor_status_service.webhooks.models import Webhook

ADMIN_SECRET = "admin-secret-0123456789"
READ_SECRET = "read-secret-0123456789"
TOKENS = f"root:admin:{ADMIN_SECRET},dashboard:read:{READ_SECRET}"
ADMIN = {"Authorization": f"Bearer {ADMIN_SECRET}"}
PUBLIC_URL = "https://93.184.215.14/hooks"


@pytest.fixture
def make_client(database_url, app):
    def make(**settings):
        return create_app({"DATABASE_URL": database_url, "TESTING": True, "API_TOKENS": TOKENS,
                           **settings}).test_client()

    return make


@pytest.fixture
def admin(make_client):
    return make_client()


def create_webhook(client, url=PUBLIC_URL):
    response = client.post("/api/v1/webhooks", json={"url": url}, headers=ADMIN)
    assert response.status_code == 201, response.json
    return response.json


def stored_secrets(webhook_id):
    """The secret columns as the database holds them (what a dump shows), read past the model."""
    cursor = database.execute_sql(f"SELECT secret, previous_secret FROM webhook WHERE webhook_id = {database.param}",
                                  (webhook_id,))
    return cursor.fetchone()


def warned(capsys, setting):
    """Whether the service's log (its handler writes to stdout) has a WARNING naming `setting` since the last call."""
    return any(" WARNING " in line and setting in line for line in capsys.readouterr().out.splitlines())


# 6. SSRF edges

@pytest.mark.parametrize("url", [
    "https://[::ffff:0:7f00:1]/hooks", "https://[::ffff:0:a00:1]/hooks",  # IPv4-translated, private inside
    "https://[::ffff:0:5db8:d70e]/hooks",  # IPv4-translated, even with a public IPv4 inside
    "https://93.184.215.14:0/hooks",  # port 0
])
def test_ipv4_translated_addresses_and_port_0_are_refused(admin, url):
    response = admin.post("/api/v1/webhooks", json={"url": url}, headers=ADMIN)

    assert response.status_code == 422, response.json
    assert list(response.json["errors"]["json"]) == ["url"]
    assert Webhook.select().count() == 0


def test_a_refusal_names_the_urls_host_never_the_address_it_resolved_to(admin, monkeypatch):
    real = socket.getaddrinfo

    def resolver(host, *args, **kwargs):
        if host == "hooks.example.org":  # an internal name: its address must not leak back
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.20.30.40", 443))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    response = admin.post("/api/v1/webhooks", json={"url": "https://hooks.example.org/x"}, headers=ADMIN)

    assert response.status_code == 422
    [message] = response.json["errors"]["json"]["url"]
    assert "hooks.example.org" in message and "10.20.30.40" not in message


def test_a_refused_connection_is_recorded_as_refused_not_as_a_timeout():
    settings = Settings(timeout_s=5, retry_schedule_s=(1,), allow_http=True, allow_private=True, threads=1,
                        poll_interval_s=0.1)
    answer = Client(settings).post(f"http://127.0.0.1:{free_port()}/hooks", b"{}", {})  # nothing listens there

    assert answer.status_code is None
    assert "refused" in answer.error.lower() and "timed out" not in answer.error.lower(), answer.error


@pytest.mark.parametrize("setting", ["WEBHOOK_ALLOW_HTTP", "WEBHOOK_ALLOW_PRIVATE"])
def test_settings_that_open_the_url_rules_are_a_warning_at_start_and_refused_on_a_platform(database_url, setting,
                                                                                          capsys):
    capsys.readouterr()
    create_app({"DATABASE_URL": database_url, "TESTING": True, setting: True})
    assert warned(capsys, setting)

    with pytest.raises(ConfigurationError, match=setting):
        Config({"DYNO": "web.1", "DATABASE_URL": "postgres://u:p@db.example.org/x", setting: "true"})
    Config({"DYNO": "web.1", "DATABASE_URL": "postgres://u:p@db.example.org/x", setting: "false"})


# 7. /metrics

def test_metrics_list_webhook_ids_only_to_an_admin_and_sum_the_same_series_for_others(admin, make_client):
    first, second = create_webhook(admin), create_webhook(admin)
    Webhook.update(delivered_count=3, failed_count=1).where(Webhook.webhook_id == first["webhook_id"]).execute()
    Webhook.update(delivered_count=4).where(Webhook.webhook_id == second["webhook_id"]).execute()

    anonymous = admin.get("/metrics").get_data(as_text=True)
    reader = admin.get("/metrics", headers={"Authorization": f"Bearer {READ_SECRET}"}).get_data(as_text=True)
    as_admin = admin.get("/metrics", headers=ADMIN).get_data(as_text=True)

    for text in (anonymous, reader):
        assert first["webhook_id"] not in text and second["webhook_id"] not in text and "webhook=" not in text
        assert 'mentor_status_webhook_deliveries_total{outcome="delivered"} 7.0' in text
        assert 'mentor_status_webhook_deliveries_total{outcome="failed"} 1.0' in text
        assert "mentor_status_webhook_enabled 2.0" in text
        assert "mentor_status_webhook_entries_behind 0.0" in text
    label = f'webhook="{first["webhook_id"]}"'
    assert f'mentor_status_webhook_deliveries_total{{outcome="delivered",{label}}} 3.0' in as_admin


# 5. Secrets at rest

def test_with_secrets_key_a_webhook_secret_is_stored_encrypted_and_still_signs(make_client):
    key = Fernet.generate_key().decode()
    client = make_client(SECRETS_KEY=key)
    created = create_webhook(client)

    stored, _ = stored_secrets(created["webhook_id"])
    assert created["secret"] not in stored and created["secret"].removeprefix("whsec_") not in stored
    assert Webhook.get_by_id(created["webhook_id"]).secret == created["secret"]  # what delivery signs with

    rotated = client.post(f"/api/v1/webhooks/{created['webhook_id']}/rotate-secret", headers=ADMIN).json
    stored, previous = stored_secrets(created["webhook_id"])
    assert rotated["secret"] not in stored and created["secret"] not in previous
    webhook = Webhook.get_by_id(created["webhook_id"])
    assert (webhook.secret, webhook.previous_secret) == (rotated["secret"], created["secret"])


def test_with_secrets_key_a_kept_response_carrying_a_secret_is_stored_encrypted_and_replays_it(make_client):
    client = make_client(SECRETS_KEY=Fernet.generate_key().decode())
    keyed = {**ADMIN, "Idempotency-Key": "create-hook-1"}
    created = client.post("/api/v1/webhooks", json={"url": PUBLIC_URL}, headers=keyed)
    assert created.status_code == 201

    kept = database.execute_sql("SELECT body FROM idempotency_key").fetchall()
    assert len(kept) == 1 and created.json["secret"].removeprefix("whsec_") not in kept[0][0]
    replayed = client.post("/api/v1/webhooks", json={"url": PUBLIC_URL}, headers=keyed)
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json == created.json


def test_a_second_key_decrypts_what_the_first_encrypted_key_rotation(make_client):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    created = create_webhook(make_client(SECRETS_KEY=old))

    make_client(SECRETS_KEY=f"{new},{old}")
    assert Webhook.get_by_id(created["webhook_id"]).secret == created["secret"]


def test_without_secrets_key_secrets_are_stored_as_before_and_the_start_warns_naming_it(make_client, capsys):
    capsys.readouterr()
    client = make_client()
    assert warned(capsys, "SECRETS_KEY")
    created = create_webhook(client)

    assert stored_secrets(created["webhook_id"])[0] == created["secret"]
    make_client(SECRETS_KEY=Fernet.generate_key().decode())
    assert not warned(capsys, "SECRETS_KEY")


@pytest.mark.parametrize("value", ["not-a-key", Fernet.generate_key().decode() + ",short", "x" * 44])
def test_a_malformed_secrets_key_refuses_to_start_naming_it_and_never_showing_it(value):
    with pytest.raises(ConfigurationError, match="SECRETS_KEY") as refused:
        Config({"SECRETS_KEY": value})
    assert value not in str(refused.value)


def test_rotate_secret_with_expire_previous_stops_the_old_secret_at_once(admin):
    created = create_webhook(admin)

    response = admin.post(f"/api/v1/webhooks/{created['webhook_id']}/rotate-secret", json={"expire_previous": True},
                          headers=ADMIN)

    assert response.status_code == 201, response.json
    webhook = Webhook.get_by_id(created["webhook_id"])
    assert webhook.secret == response.json["secret"] and webhook.previous_secret is None
    assert signing_secrets(webhook, utc_now()) == [response.json["secret"]]
    bad = admin.post(f"/api/v1/webhooks/{created['webhook_id']}/rotate-secret", json={"expire_previous": "soon"},
                     headers=ADMIN)
    assert bad.status_code == 422 and "expire_previous" in bad.json["errors"]["json"]


# 1. Leases: an expired lease acts on nothing, even when nobody took it over yet

def test_a_process_whose_lease_expired_records_nothing_and_cannot_renew_it(admin):
    webhook_id = create_webhook(admin)["webhook_id"]
    now = time.time()
    assert Webhook.take_lease(webhook_id, "slow-process", now, now + 5)
    after_expiry = now + 6

    assert not Webhook.renew_lease(webhook_id, "slow-process", after_expiry, after_expiry + 30)
    assert not Webhook.acknowledge(webhook_id, "slow-process", 0, 10, after_expiry)
    assert not Webhook.record_failure(webhook_id, "slow-process", 0, after_expiry, 1, after_expiry + 5)
    Webhook.disable(webhook_id, "slow-process", 0, after_expiry, "should not happen")
    stored = Webhook.get_by_id(webhook_id)
    assert (stored.status, stored.delivered_through, stored.failed_attempts) == ("enabled", 0, 0)

    assert Webhook.acknowledge(webhook_id, "slow-process", 0, 10, now + 1)  # while it held, it counted
