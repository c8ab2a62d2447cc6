"""Fair use: RATE_LIMIT per actor, the IETF RateLimit headers, 429 with Retry-After, exempt paths,
the settings; a Redis that does not answer lets requests through (tests/system/test_shared_rate_limits.py
shares a limit through a real one)."""
import re

import http_sfv
import pytest
from factories import create_mentor
from servers import free_port

from mentor_status_service import create_app
from mentor_status_service.config import Config, ConfigurationError
from mentor_status_service.pausing.models import MentorStatus

READ_SECRET = "read-secret-0123456789"
WRITE_SECRET = "write-secret-0123456789"
TOKENS = f"dashboard:read:{READ_SECRET},hr-sync:write:{WRITE_SECRET}"
LIST = "/api/v1/mentor-statuses"
EXEMPT = ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/docs/assets/swagger-ui.css"]


def bearer(secret):
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def limited(database_url, app):
    """A client of an app on the test's database with these settings (RATE_LIMIT among them)."""
    def make(**settings):
        return create_app({"DATABASE_URL": database_url, "TESTING": True, **settings}).test_client()

    return make


def rate_limit_headers(response):
    """(the policy's parameters, the current figures), parsed as the structured-field lists they are."""
    policy, current = http_sfv.List(), http_sfv.List()
    policy.parse(response.headers["RateLimit-Policy"].encode())
    current.parse(response.headers["RateLimit"].encode())
    [policy_item], [current_item] = policy, current
    assert policy_item.value == current_item.value == "default"
    return dict(policy_item.params), dict(current_item.params)


def spend(client, count, **kwargs):
    return [client.get(LIST, **kwargs).status_code for _ in range(count)]


def test_each_counted_response_carries_the_policy_and_what_remains(limited):
    client = limited(RATE_LIMIT="5/minute")

    for remaining in (4, 3, 2):
        response = client.get(LIST)
        assert response.status_code == 200
        policy, current = rate_limit_headers(response)
        assert policy == {"q": 5, "w": 60}
        assert current["r"] == remaining
        assert 0 < current["t"] <= 60


def test_over_the_limit_is_a_429_json_error_with_retry_after(limited):
    client = limited(RATE_LIMIT="3 per hour")
    assert spend(client, 3) == [200, 200, 200]

    response = client.get(LIST)

    assert response.status_code == 429
    assert response.json["code"] == 429 and response.json["status"] == "Too Many Requests"
    assert "3 per 1 hour" in response.json["message"]
    assert 0 < int(response.headers["Retry-After"]) <= 3600
    policy, current = rate_limit_headers(response)
    assert policy == {"q": 3, "w": 3600}
    assert current["r"] == 0 and current["t"] == int(response.headers["Retry-After"])
    assert response.headers["Cache-Control"] == "private, no-cache"


def test_every_api_request_counts_errors_exports_and_both_path_forms_alike(limited):
    client = limited(RATE_LIMIT="5/hour")

    statuses = [client.get(f"{LIST}/nobody").status_code,  # 404 of a route
                client.get("/api/v1/no-such-thing").status_code,  # 404 of no route
                client.get(LIST, headers={"Accept": "text/csv"}).status_code,  # an export
                client.get(f"{LIST}{LIST}").status_code,  # the contract's path form
                client.post(LIST, json={"mentor_id": "mentor-777"}).status_code]

    assert statuses == [404, 404, 200, 200, 201]
    assert client.get(LIST, headers={"Accept": "text/csv"}).status_code == 429
    assert client.get("/api/v1/no-such-thing").status_code == 429


def test_over_the_limit_a_write_is_refused_before_its_body_is_read_or_the_database_touched(limited):
    client = limited(RATE_LIMIT="1/hour")
    assert client.get(LIST).status_code == 200

    response = client.post(LIST, data="{not json", content_type="application/json")

    assert response.status_code == 429
    assert MentorStatus.select().count() == 0


@pytest.mark.parametrize("path", EXEMPT)
def test_probes_metrics_and_the_api_document_are_never_limited(limited, path):
    client = limited(RATE_LIMIT="1/hour")
    assert spend(client, 2) == [200, 429]

    for _ in range(3):
        response = client.get(path)
        response.close()  # a static file's
        assert response.status_code == 200
        assert "RateLimit" not in response.headers and "RateLimit-Policy" not in response.headers


def test_a_cors_preflight_is_not_counted(limited):
    client = limited(RATE_LIMIT="1/hour", CORS_ORIGINS=("https://app.example",))
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "GET"}
    for _ in range(3):
        assert client.options(LIST, headers=preflight).status_code == 200

    assert spend(client, 2) == [200, 429]


def test_each_token_has_its_own_budget_and_anonymous_requests_theirs(limited):
    client = limited(RATE_LIMIT="2/hour", API_TOKENS=TOKENS)

    assert spend(client, 3, headers=bearer(READ_SECRET)) == [200, 200, 429]
    assert spend(client, 3, headers=bearer(WRITE_SECRET)) == [200, 200, 429]
    assert spend(client, 3) == [200, 200, 429]


def test_a_wrong_token_spends_the_budget_of_its_client_address(limited):
    client = limited(RATE_LIMIT="2/hour", API_TOKENS=TOKENS)
    assert spend(client, 2, headers=bearer("wrong-secret-0123456789")) == [401, 401]

    assert spend(client, 1, headers=bearer("another-wrong-secret-0123")) == [429]
    assert spend(client, 1) == [429]  # the same address, anonymous
    assert spend(client, 1, headers=bearer(READ_SECRET)) == [200]


def test_anonymous_clients_behind_a_trusted_proxy_are_told_apart_by_the_last_forwarded_hop(limited):
    client = limited(RATE_LIMIT="1/hour")  # the test client's peer is 127.0.0.1, trusted by default

    def from_client(address, spoofed="203.0.113.99"):
        # A client may send any X-Forwarded-For; the proxy appends the address it saw.
        headers = {"X-Forwarded-For": f"{spoofed}, {address}"}
        return client.get(LIST, headers=headers).status_code

    assert [from_client("198.51.100.1"), from_client("198.51.100.2")] == [200, 200]
    assert [from_client("198.51.100.1", spoofed="198.51.100.7"), from_client("198.51.100.2")] == [429, 429]
    # One IPv6 client holds a /64: its addresses share one budget.
    assert [from_client("2001:db8:1:2::1"), from_client("2001:db8:1:2::ffff"), from_client("2001:db8:1:3::1")] \
        == [200, 429, 200]


def test_x_forwarded_for_is_ignored_from_a_peer_that_is_not_trusted(limited):
    client = limited(RATE_LIMIT="1/hour", FORWARDED_ALLOW_IPS=Config({"FORWARDED_ALLOW_IPS": "10.0.0.0/8"})
                     .FORWARDED_ALLOW_IPS)

    statuses = [client.get(LIST, headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code for n in (1, 2)]

    assert statuses == [200, 429]


def test_an_untrusted_peer_is_counted_by_its_own_address_after_a_trusting_app_saw_the_same_headers(limited):
    # Client addresses are remembered per peer, X-Forwarded-For and trusted proxies, not per request.
    trusting = limited(RATE_LIMIT="1/hour")
    untrusting = limited(RATE_LIMIT="1/hour", FORWARDED_ALLOW_IPS=Config({"FORWARDED_ALLOW_IPS": "10.0.0.0/8"})
                         .FORWARDED_ALLOW_IPS)
    hops = [{"X-Forwarded-For": f"198.51.100.{n}"} for n in (5, 6)]

    assert [trusting.get(LIST, headers=headers).status_code for headers in hops] == [200, 200]
    assert [untrusting.get(LIST, headers=headers).status_code for headers in hops] == [200, 429]


def test_with_no_redis_listening_requests_pass_unchecked_and_are_counted(limited):
    client = limited(RATE_LIMIT="1/hour", RATE_LIMIT_STORAGE_URL=f"redis://127.0.0.1:{free_port()}/0")
    before = unchecked_count(client)

    statuses = spend(client, 3)

    assert statuses == [200, 200, 200]
    assert unchecked_count(client) == before + 3


def unchecked_count(client):
    """The counter as /metrics shows it (this process's: it counts every app the tests build)."""
    return float(re.search(r"^mentor_status_rate_limit_unchecked_total (\S+)$", client.get("/metrics").text,
                           re.MULTILINE).group(1))


def test_without_rate_limit_nothing_is_counted_and_no_header_is_sent(client):
    create_mentor(client)
    for _ in range(3):
        response = client.get(LIST)
        assert response.status_code == 200
        assert "RateLimit" not in response.headers and "RateLimit-Policy" not in response.headers


def test_the_settings_are_read_with_their_defaults():
    config = Config({"RATE_LIMIT": " 600/minute "})
    assert (config.RATE_LIMIT, config.RATE_LIMIT_STORAGE_URL) == ("600/minute", "memory://")
    assert Config({}).RATE_LIMIT is None
    assert Config({"RATE_LIMIT_STORAGE_URL": "redis://cache:6379/0"}).RATE_LIMIT_STORAGE_URL == "redis://cache:6379/0"
    assert Config({"FORWARDED_ALLOW_IPS": "*"}).FORWARDED_ALLOW_IPS == "*"
    assert [str(network) for network in Config({}).FORWARDED_ALLOW_IPS] == ["127.0.0.1/32", "::1/128"]


@pytest.mark.parametrize("environ, message", [
    ({"RATE_LIMIT": "600"}, "RATE_LIMIT must be one limit such as 600/minute"),
    ({"RATE_LIMIT": "600/fortnight"}, "RATE_LIMIT must be one limit"),
    ({"RATE_LIMIT": "10/second;600/minute"}, "RATE_LIMIT must be one limit"),
    ({"RATE_LIMIT": "0/minute"}, "RATE_LIMIT must be one limit"),
    ({"RATE_LIMIT_STORAGE_URL": "memcached://cache:11211"}, "RATE_LIMIT_STORAGE_URL must be memory:// or a redis"),
    ({"RATE_LIMIT_STORAGE_URL": "http://user:hunter2@cache"}, "not a http URL"),
    ({"FORWARDED_ALLOW_IPS": "127.0.0.1,proxy.example"}, "FORWARDED_ALLOW_IPS entry 2 must be"),
])
def test_a_bad_setting_refuses_to_start_naming_it(environ, message):
    with pytest.raises(ConfigurationError) as refused:
        Config(environ)
    assert message in str(refused.value)
    assert "hunter2" not in str(refused.value)



def test_memory_counts_start_no_thread_per_window(limited, monkeypatch):
    # limits' own memory storage starts a threading.Timer whenever its last one has fired (10 ms
    # after it started): with a pause between requests, each request would start one.
    import threading
    import time

    client = limited(RATE_LIMIT="100/minute")
    client.get(LIST)
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda thread: started.append(thread))
    for _ in range(3):
        time.sleep(0.02)
        assert client.get(LIST).status_code == 200

    assert started == []


def test_memory_counts_reset_with_their_window_and_are_swept_later(monkeypatch):
    from mentor_status_service.web.rate_limits import SweptMemoryStorage

    clock = [1000.0]
    monkeypatch.setattr("limits.storage.memory.time.time", lambda: clock[0])
    monkeypatch.setattr("mentor_status_service.web.rate_limits.time.monotonic", lambda: clock[0])
    storage = SweptMemoryStorage("mentor-status-memory://")
    assert storage.incr("actor:a", expiry=60) == 1
    assert storage.incr("actor:a", expiry=60) == 2
    clock[0] += 61  # the window is over: the count starts again when read, before any sweep
    assert storage.get("actor:a") == 0
    storage.incr("actor:b", expiry=60)
    clock[0] += SweptMemoryStorage.SWEEP_EVERY_S + 60  # b's window over, and a sweep due
    storage.incr("actor:c", expiry=60)  # sweeps b, which no one reads again

    assert "actor:b" not in storage.storage and "actor:b" not in storage.expirations
    assert storage.get("actor:c") == 1
