"""Delivery, for real: local receivers in threads of the test, and `flask --app wsgi webhooks
deliver` started as the Procfile starts it (with http and 127.0.0.1 allowed, and a short retry
schedule, through its environment)."""
import time

import pytest
from servers import wait_until
from standardwebhooks import Webhook as Verifier
from webhook_receivers import DeliveryProcess, Receiver

from mentor_status_service import create_app
from mentor_status_service.webhooks.models import Webhook

pytestmark = pytest.mark.slow

ADMIN_SECRET = "admin-secret-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_SECRET}"}


@pytest.fixture
def api(database_url, app):
    return create_app({"DATABASE_URL": database_url, "TESTING": True, "API_TOKENS": f"root:admin:{ADMIN_SECRET}",
                       "WEBHOOK_ALLOW_HTTP": True, "WEBHOOK_ALLOW_PRIVATE": True}).test_client()


def call(api, method, path, body=None, expected=(200, 201)):
    response = api.open(path, method=method, json=body, headers=ADMIN)
    assert response.status_code in expected, response.json
    return response.json


def create_webhook(api, url, **fields):
    return call(api, "POST", "/api/v1/webhooks", {"url": url, **fields})


def webhook_state(api, webhook):
    return call(api, "GET", f"/api/v1/webhooks/{webhook['webhook_id']}")


def deliveries(api, webhook):
    return call(api, "GET", f"/api/v1/webhooks/{webhook['webhook_id']}/deliveries?limit=100")["data"]


def write_some(api, mentors=3, prefix="mentor"):
    """Creates, pauses (two entries), updates and resumes mentors: several entries of both resources."""
    for number in range(mentors):
        mentor_id = f"{prefix}-{number:03d}"
        call(api, "POST", "/api/v1/mentor-statuses", {"mentor_id": mentor_id})
        call(api, "PUT", f"/api/v1/mentor-statuses/{mentor_id}", {"status": "paused", "pause_reason": "travel"})
        call(api, "PUT", f"/api/v1/mentor-statuses/{mentor_id}", {"metadata": {"n": number}})
        call(api, "PUT", f"/api/v1/mentor-statuses/{mentor_id}", {"status": "active"})


def feed(api, after, **filters):
    entries = []
    while True:
        page = api.get("/api/v1/changes", query_string={"after": after, "limit": 1000, **filters}).json
        if not page["data"]:
            return entries
        entries += page["data"]
        after = page["next_after"]


class Recording:
    """A receiver's answer function that remembers the status it gave each request."""

    def __init__(self, decide):
        self.decide = decide

    def __call__(self, received):
        outcome = self.decide(received)
        received.status = outcome[0] if isinstance(outcome, tuple) else (outcome if outcome is not None else 599)
        return outcome


def answering(decide):
    return Recording(decide)


def always(status):
    return answering(lambda received: status)


def test_every_entry_arrives_once_signed_in_feed_order_exactly_as_the_feed_shows_it(api, database_url):
    with Receiver(always(204)) as receiver, DeliveryProcess(database_url):
        call(api, "POST", "/api/v1/mentor-statuses", {"mentor_id": "before-the-webhook"})
        webhook = create_webhook(api, receiver.url + "/hooks?source=mentors")
        write_some(api, mentors=4)
        call(api, "DELETE", "/api/v1/pause-records/pause-rec-0002")
        expected = feed(api, after=webhook["after"])
        got = receiver.wait_for(len(expected))
        time.sleep(0.3)  # nothing more arrives

        assert webhook["after"] == 1 and len(receiver.received) == len(expected)
        verifier = Verifier(webhook["secret"])
        for received, entry in zip(receiver.received, expected):
            assert received.path == "/hooks?source=mentors"
            assert received.headers["content-type"] == "application/json"
            assert received.headers["webhook-id"] == f"{webhook['webhook_id']}_{entry['change_id']}"
            assert abs(int(received.headers["webhook-timestamp"]) - time.time()) < 60
            assert verifier.verify(received.body, received.headers) == {
                "type": f"{entry['resource']}.{entry['event']}", "timestamp": entry["at"], "data": entry}
        assert [received.change_id for received in got] == [entry["change_id"] for entry in expected]
        assert len({received.headers["webhook-id"] for received in got}) == len(got)
        wait_until(lambda: webhook_state(api, webhook)["after"] == expected[-1]["change_id"], 10,
                   message="the position to be stored")
        log = deliveries(api, webhook)
        assert [(item["change_id"], item["attempt"], item["status_code"], item["error"]) for item in log] == [
            (entry["change_id"], 1, 204, None) for entry in reversed(expected)]
        assert all(item["duration_ms"] >= 0 and item["at"].endswith("Z") for item in log)


def test_a_resource_filter_sends_only_that_resources_entries(api, database_url):
    with Receiver(always(200)) as receiver, DeliveryProcess(database_url):
        mentors = create_webhook(api, receiver.url + "/mentors", resource="mentor_status")
        pauses = create_webhook(api, receiver.url + "/pauses", resource="pause_record")
        write_some(api, mentors=2)
        for path, webhook, resource in (("/mentors", mentors, "mentor_status"), ("/pauses", pauses, "pause_record")):
            expected = [entry["change_id"] for entry in feed(api, after=0, resource=resource)]
            receiver.wait_for(len(expected), path=path)
            time.sleep(0.2)
            assert [received.change_id for received in receiver.of(path)] == expected
            assert {received.json["data"]["resource"] for received in receiver.of(path)} == {resource}


def test_a_failing_receiver_gets_the_same_entry_again_until_it_answers_and_only_then_the_next(api, database_url):
    failures = {"left": 3}

    def decide(received):
        if received.change_id == 2 and failures["left"]:
            failures["left"] -= 1
            return None if failures["left"] == 1 else 500  # a 500, a connection hung up on, a 500
        return 200

    with Receiver(answering(decide)) as receiver, DeliveryProcess(database_url,
                                                                  WEBHOOK_RETRY_SCHEDULE_S="0.2,0.2,0.2,5"):
        webhook = create_webhook(api, receiver.url + "/hooks")
        write_some(api, mentors=1)  # 6 entries
        receiver.wait_for(9)
        time.sleep(0.3)

        assert [received.change_id for received in receiver.received] == [1, 2, 2, 2, 2, 3, 4, 5, 6]
        assert len({received.headers["webhook-id"] for received in receiver.received if received.change_id == 2}) == 1
        log = [(item["change_id"], item["attempt"], item["status_code"]) for item in reversed(deliveries(api, webhook))]
        assert log == [(1, 1, 200), (2, 1, 500), (2, 2, None), (2, 3, 500), (2, 4, 200), (3, 1, 200), (4, 1, 200),
                       (5, 1, 200), (6, 1, 200)]
        errors = [item["error"] for item in reversed(deliveries(api, webhook))]
        assert errors[1] == errors[3] == "answered 500" and errors[2] and errors[4] is None
        assert webhook_state(api, webhook)["status"] == "enabled"


def test_a_receiver_that_times_out_is_tried_again(api, database_url):
    slow = {"left": 1}

    def decide(received):
        if slow["left"]:
            slow["left"] -= 1
            time.sleep(2.5)
        return 200

    with Receiver(answering(decide)) as receiver, DeliveryProcess(database_url, WEBHOOK_TIMEOUT_S=1):
        webhook = create_webhook(api, receiver.url + "/hooks")
        call(api, "POST", "/api/v1/mentor-statuses", {"mentor_id": "mentor-001"})
        wait_until(lambda: webhook_state(api, webhook)["after"] == 1, 15, message="delivery after a timeout")

        log = list(reversed(deliveries(api, webhook)))
        assert [(item["attempt"], item["status_code"], item["error"]) for item in log] == [
            (1, None, "timed out"), (2, 200, None)]
        assert 900 <= log[0]["duration_ms"] < 2000


def test_a_redirect_is_never_followed_and_the_schedule_spent_disables_the_webhook(api, database_url):
    def decide(received):
        return 200 if received.path == "/elsewhere" else (302, {"Location": "/elsewhere"})

    with Receiver(answering(decide)) as receiver, DeliveryProcess(database_url, WEBHOOK_RETRY_SCHEDULE_S="0.1,0.1"):
        webhook = create_webhook(api, receiver.url + "/hooks")
        call(api, "POST", "/api/v1/mentor-statuses", {"mentor_id": "mentor-001"})
        wait_until(lambda: webhook_state(api, webhook)["status"] == "disabled", 15, message="the webhook disabled")
        call(api, "POST", "/api/v1/mentor-statuses", {"mentor_id": "mentor-002"})
        time.sleep(0.5)

        assert [received.path for received in receiver.received] == ["/hooks"] * 3  # 1 try + 2 retries
        state = webhook_state(api, webhook)
        assert state["after"] == 0 and "3 attempts" in state["disabled_reason"]
        assert "302" in state["disabled_reason"]
        assert [item["status_code"] for item in deliveries(api, webhook)] == [302, 302, 302]


def test_a_410_disables_the_webhook_at_once_and_re_enabling_resumes_where_it_stopped(api, database_url):
    gone = {"yes": True}
    with Receiver(answering(lambda received: 410 if gone["yes"] else 200)) as receiver, \
            DeliveryProcess(database_url):
        webhook = create_webhook(api, receiver.url + "/hooks")
        call(api, "POST", "/api/v1/mentor-statuses", {"mentor_id": "mentor-001"})
        wait_until(lambda: webhook_state(api, webhook)["status"] == "disabled", 10, message="the webhook disabled")
        call(api, "POST", "/api/v1/mentor-statuses", {"mentor_id": "mentor-002"})
        time.sleep(0.5)
        assert len(receiver.received) == 1 and "410" in webhook_state(api, webhook)["disabled_reason"]

        gone["yes"] = False
        call(api, "PUT", f"/api/v1/webhooks/{webhook['webhook_id']}", {"status": "enabled"})
        receiver.wait_for(3)
        assert [received.change_id for received in receiver.received] == [1, 1, 2]


def test_retry_after_on_a_503_is_honoured_within_the_schedule(api, database_url):
    busy = {"left": 1}

    def decide(received):
        if busy["left"]:
            busy["left"] -= 1
            return 503, {"Retry-After": "2"}
        return 200

    with Receiver(answering(decide)) as receiver, DeliveryProcess(database_url, WEBHOOK_RETRY_SCHEDULE_S="0.1,3"):
        create_webhook(api, receiver.url + "/hooks")
        call(api, "POST", "/api/v1/mentor-statuses", {"mentor_id": "mentor-001"})
        first, second = receiver.wait_for(2, timeout=15)

        assert 1.9 <= second.began - first.ended < 3.5


def test_after_a_rotation_both_secrets_sign_and_each_verifies(api, database_url):
    with Receiver(always(200)) as receiver, DeliveryProcess(database_url):
        webhook = create_webhook(api, receiver.url + "/hooks")
        call(api, "POST", "/api/v1/mentor-statuses", {"mentor_id": "mentor-001"})
        [before] = receiver.wait_for(1)
        rotated = call(api, "POST", f"/api/v1/webhooks/{webhook['webhook_id']}/rotate-secret")
        call(api, "POST", "/api/v1/mentor-statuses", {"mentor_id": "mentor-002"})
        after = receiver.wait_for(2)[1]

        assert len(before.headers["webhook-signature"].split(" ")) == 1
        signatures = after.headers["webhook-signature"].split(" ")
        assert len(signatures) == 2 and all(signature.startswith("v1,") for signature in signatures)
        for secret in (webhook["secret"], rotated["secret"]):
            assert Verifier(secret).verify(after.body, after.headers)["data"]["id"] == "mentor-002"
        Webhook.update(previous_secret_expires_at="2020-01-01 00:00:00").execute()
        call(api, "POST", "/api/v1/mentor-statuses", {"mentor_id": "mentor-003"})
        last = receiver.wait_for(3)[2]
        assert len(last.headers["webhook-signature"].split(" ")) == 1
        Verifier(rotated["secret"]).verify(last.body, last.headers)


def test_replay_sends_again_from_a_change_with_the_same_webhook_ids(api, database_url):
    with Receiver(always(200)) as receiver, DeliveryProcess(database_url):
        webhook = create_webhook(api, receiver.url + "/hooks")
        write_some(api, mentors=1)  # 6 entries
        first = receiver.wait_for(6)
        call(api, "POST", f"/api/v1/webhooks/{webhook['webhook_id']}/replay", {"after": 2})
        got = receiver.wait_for(10)
        time.sleep(0.3)

        assert [received.change_id for received in got] == [1, 2, 3, 4, 5, 6, 3, 4, 5, 6]
        assert [received.headers["webhook-id"] for received in got[6:]] == [
            received.headers["webhook-id"] for received in first[2:6]]
        assert webhook_state(api, webhook)["after"] == 6


def test_an_erased_mentors_undelivered_entries_are_not_delivered_but_its_deleted_entries_are(api, database_url):
    down = {"yes": True}
    with Receiver(answering(lambda received: 500 if down["yes"] else 200)) as receiver, \
            DeliveryProcess(database_url, WEBHOOK_RETRY_SCHEDULE_S=",".join(["0.3"] * 50)):
        webhook = create_webhook(api, receiver.url + "/hooks")
        call(api, "POST", "/api/v1/mentor-statuses", {"mentor_id": "mentor-a"})
        call(api, "PUT", "/api/v1/mentor-statuses/mentor-a", {"status": "paused"})  # + a pause record
        call(api, "POST", "/api/v1/mentor-statuses", {"mentor_id": "mentor-b"})
        receiver.wait_for(2)  # mentor-a's first entry is being refused
        call(api, "DELETE", "/api/v1/mentor-statuses/mentor-a")
        remaining = feed(api, after=0)
        down["yes"] = False
        wait_until(lambda: webhook_state(api, webhook)["after"] == remaining[-1]["change_id"], 15,
                   message="every remaining entry delivered")

        delivered = [received.json["data"] for received in receiver.received if received.status == 200]
        assert [(entry["id"], entry["event"]) for entry in delivered] == [
            ("mentor-b", "created"), ("pause-rec-0001", "deleted"), ("mentor-a", "deleted")]
        assert delivered == remaining


def test_sigterm_finishes_the_request_in_flight_and_exits_within_15_seconds(api, database_url):
    with Receiver(always(200), delay_s=3) as receiver, DeliveryProcess(database_url, WEBHOOK_TIMEOUT_S=10) as process:
        webhook = create_webhook(api, receiver.url + "/hooks")
        call(api, "POST", "/api/v1/mentor-statuses", {"mentor_id": "mentor-001"})
        call(api, "POST", "/api/v1/mentor-statuses", {"mentor_id": "mentor-002"})
        wait_until(lambda: receiver._in_flight.get("/hooks"), 10, interval=0.02, message="a request in flight")

        took = process.terminate()

        assert took < 15 and process.process.returncode == 0, process.output()
        assert [received.change_id for received in receiver.received] == [1]  # answered, and nothing after
        assert webhook_state(api, webhook)["after"] == 1
        assert Webhook.get_by_id(webhook["webhook_id"]).lease_owner is None


def test_sigkill_mid_run_loses_nothing_and_keeps_the_order(api, database_url):
    with Receiver(always(200), delay_s=0.01) as receiver:
        webhook = create_webhook(api, receiver.url + "/hooks")
        for number in range(60):
            call(api, "POST", "/api/v1/mentor-statuses", {"mentor_id": f"mentor-{number:03d}"})
        with DeliveryProcess(database_url, WEBHOOK_TIMEOUT_S=1) as first:
            receiver.wait_for(20)
            first.kill()
        killed_at = len(receiver.received)
        assert killed_at < 60
        with DeliveryProcess(database_url, WEBHOOK_TIMEOUT_S=1):  # its lease expires within 2 * 1 + 5 s
            wait_until(lambda: webhook_state(api, webhook)["after"] == 60, 30, message="every entry delivered")

        got = [received.change_id for received in receiver.received]
        assert sorted(set(got)) == list(range(1, 61))
        assert got == sorted(got)  # the order is kept; an entry in flight at the kill may come twice
        assert len(got) - 60 <= 1


def test_two_delivery_processes_never_send_one_webhooks_entries_at_once(api, database_url):
    with Receiver(always(200), delay_s=0.005) as receiver:
        webhooks = [create_webhook(api, f"{receiver.url}/hooks-{number}") for number in range(4)]
        with DeliveryProcess(database_url, WEBHOOK_DELIVERY_THREADS=2) as one, \
                DeliveryProcess(database_url, WEBHOOK_DELIVERY_THREADS=2) as two:
            for number in range(40):
                call(api, "POST", "/api/v1/mentor-statuses", {"mentor_id": f"mentor-{number:03d}"})
            for webhook in webhooks:
                wait_until(lambda: webhook_state(api, webhook)["after"] == 40, 30, message="every entry delivered")
            assert one.process.poll() is None and two.process.poll() is None
            working = [process for process in (one, two) if "Traceback" not in process.output()]
            assert len(working) == 2

        assert receiver.overlaps == []
        for number in range(4):
            assert [received.change_id for received in receiver.of(f"/hooks-{number}")] == list(range(1, 41))


def test_the_address_is_checked_again_at_delivery(api, database_url):
    with Receiver(always(200)) as receiver, DeliveryProcess(database_url, WEBHOOK_ALLOW_PRIVATE="false"):
        webhook = create_webhook(api, receiver.url + "/hooks")  # allowed when saved, not when delivered
        call(api, "POST", "/api/v1/mentor-statuses", {"mentor_id": "mentor-001"})
        wait_until(lambda: deliveries(api, webhook), 10, message="a refused attempt")

        assert receiver.received == []
        [attempt] = deliveries(api, webhook)[-1:]
        assert attempt["status_code"] is None and attempt["error"].startswith("refused:")
        assert "127.0.0.1" in attempt["error"]


def test_metrics_count_deliveries_by_outcome_and_entries_behind_per_webhook(api, database_url):
    refuse = {"yes": False}
    with Receiver(answering(lambda received: 500 if refuse["yes"] else 200)) as receiver, \
            DeliveryProcess(database_url, WEBHOOK_RETRY_SCHEDULE_S="600"):
        webhook = create_webhook(api, receiver.url + "/hooks")
        call(api, "POST", "/api/v1/mentor-statuses", {"mentor_id": "mentor-001"})
        wait_until(lambda: webhook_state(api, webhook)["after"] == 1, 10, message="the first delivery")
        refuse["yes"] = True
        for number in range(2, 5):
            call(api, "POST", "/api/v1/mentor-statuses", {"mentor_id": f"mentor-{number:03d}"})
        receiver.wait_for(2)
        time.sleep(0.3)

        text = api.get("/metrics", headers=ADMIN).get_data(as_text=True)  # per webhook: for an admin only
        label = f'webhook="{webhook["webhook_id"]}"'
        assert f'mentor_status_webhook_deliveries_total{{outcome="delivered",{label}}} 1.0' in text
        assert f'mentor_status_webhook_deliveries_total{{outcome="failed",{label}}} 1.0' in text
        assert f"mentor_status_webhook_entries_behind{{{label}}} 3.0" in text
