"""Receivers that drip their answers, for real: every attempt ends within WEBHOOK_TIMEOUT_S from
connecting to the last byte, is logged as timed out, and a lease always outlasts it (two delivery
processes never send to one webhook at once); slow receivers never hold every thread, so an
answering webhook still gets each entry within 2 seconds. Also: a delivery process warns about the
relaxed URL rules, and encrypts at start the secrets stored before SECRETS_KEY was set."""
import time

import pytest
from cryptography.fernet import Fernet
from drip_receiver import DripReceiver
from servers import fetch_rows, wait_until
from standardwebhooks import Webhook as Verifier
from test_webhooks_delivery import ADMIN_SECRET, always, call, create_webhook, deliveries
from webhook_receivers import DeliveryProcess, Receiver

from mentor_status_service import create_app

pytestmark = pytest.mark.slow

TIMEOUT_S = 2


@pytest.fixture
def api(database_url, app):
    return create_app({"DATABASE_URL": database_url, "TESTING": True, "API_TOKENS": f"root:admin:{ADMIN_SECRET}",
                       "WEBHOOK_ALLOW_HTTP": True, "WEBHOOK_ALLOW_PRIVATE": True}).test_client()


def write(api, mentor_id):
    """A write; when its response came (monotonic)."""
    call(api, "POST", "/api/v1/mentor-statuses", {"mentor_id": mentor_id})
    return time.monotonic()


@pytest.mark.parametrize("head_too", [False, True], ids=["body", "head-and-body"])
def test_a_dripping_receiver_is_cut_off_at_the_timeout_logged_as_timed_out(api, database_url, head_too):
    with DripReceiver(length=32, every=0.5, head_too=head_too) as receiver, \
            DeliveryProcess(database_url, WEBHOOK_TIMEOUT_S=TIMEOUT_S, WEBHOOK_RETRY_SCHEDULE_S="0.2,0.2,60") as one:
        webhook = create_webhook(api, receiver.url + "/hooks")
        write(api, "mentor-001")
        wait_until(lambda: len(deliveries(api, webhook)) >= 3, 30, message="three attempts logged")
        wait_until(lambda: all(request.ended for request in receiver.of("/hooks")), 10, message="every attempt ended")
        output = one.output()

    attempts = list(reversed(deliveries(api, webhook)))[:3]
    assert [(item["attempt"], item["status_code"], item["error"]) for item in attempts] == [
        (1, None, "timed out"), (2, None, "timed out"), (3, None, "timed out")]
    assert all(item["duration_ms"] <= TIMEOUT_S * 1000 + 500 for item in attempts), attempts
    held = [request.ended - request.began for request in receiver.of("/hooks")]
    assert len(held) == 3 and all(seconds < TIMEOUT_S + 1 for seconds in held), held  # not the 16 s of the drip
    assert "Traceback" not in output


def test_two_processes_never_send_to_a_dripping_receiver_at_once_and_log_every_attempt(api, database_url):
    # 32 bytes, one a second: an attempt not cut off would take 32 s, longer than any lease.
    with DripReceiver(length=32, every=1.0) as receiver:
        webhook = create_webhook(api, receiver.url + "/hooks")
        settings = {"WEBHOOK_TIMEOUT_S": TIMEOUT_S, "WEBHOOK_RETRY_SCHEDULE_S": "0,0,0,0,0,0,0,0"}
        with DeliveryProcess(database_url, **settings) as one, DeliveryProcess(database_url, **settings) as two:
            write(api, "mentor-001")
            wait_until(lambda: len(receiver.of("/hooks")) >= 5, 60, message="five attempts")
            one.terminate(), two.terminate()  # each finishes (and logs) its attempt in flight
        wait_until(lambda: all(request.ended for request in receiver.of("/hooks")), 10, message="every attempt ended")

        assert receiver.overlaps("/hooks") == []
        sent = receiver.of("/hooks")
        assert {request.webhook_id for request in sent} == {f"{webhook['webhook_id']}_1"}
        logged = deliveries(api, webhook)
        assert len(logged) == len(sent), (len(logged), len(sent))
        assert {item["error"] for item in logged} == {"timed out"}


def test_slow_receivers_never_hold_every_thread_an_answering_webhook_gets_each_entry_within_2_s(api, database_url):
    # Four receivers that take 15 s to answer, two delivery threads: more slow webhooks than threads.
    with DripReceiver(length=15, every=1.0, head_too=True) as slow, Receiver(always(200)) as healthy, \
            DeliveryProcess(database_url, WEBHOOK_DELIVERY_THREADS=2, WEBHOOK_TIMEOUT_S=10,
                            WEBHOOK_RETRY_SCHEDULE_S="0,0,0,0,0,0,0,0,0,0"):
        for number in range(4):
            create_webhook(api, f"{slow.url}/slow-{number}")
        create_webhook(api, healthy.url + "/healthy")
        lags = []
        for number in range(4):
            written = write(api, f"mentor-{number:03d}")
            [arrived] = healthy.wait_for(number + 1, timeout=20)[number:number + 1]
            lags.append(arrived.began - written)
            time.sleep(2)

    assert [received.change_id for received in healthy.received] == [1, 2, 3, 4]
    assert all(lag < 2 for lag in lags), lags


def test_the_delivery_process_warns_about_relaxed_url_rules_and_encrypts_secrets_stored_before_a_key(
        api, database_url):
    with Receiver(always(200)) as receiver:
        webhook = create_webhook(api, receiver.url + "/hooks")  # stored as it is: no SECRETS_KEY yet
        key = Fernet.generate_key().decode()
        with DeliveryProcess(database_url, SECRETS_KEY=key) as process:
            write(api, "mentor-001")
            [received] = receiver.wait_for(1)
            wait_until(lambda: not fetch_rows(database_url, "SELECT secret FROM webhook")[0][0].startswith("whsec_"),
                       10, message="the secret encrypted")
            output = process.output()

    [(stored,)] = fetch_rows(database_url, "SELECT secret FROM webhook")
    assert webhook["secret"] not in stored
    assert Verifier(webhook["secret"]).verify(received.body, received.headers)["data"]["mentor_id"] == "mentor-001"
    for setting in ("WEBHOOK_ALLOW_HTTP", "WEBHOOK_ALLOW_PRIVATE"):
        assert any("WARNING" in line and setting in line for line in output.splitlines()), output
    assert not any("WARNING" in line and "SECRETS_KEY" in line for line in output.splitlines())
