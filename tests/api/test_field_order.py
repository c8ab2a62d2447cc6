"""Every JSON body lists its fields in the order its response schema declares them (the app factory's
promise: `app.json.sort_keys = False`), whether the body was built from the schema's declaration
(web/shapes.py) or dumped by flask-smorest, and so does every envelope and error."""
import json

import pytest

from mentor_status_service import create_app
from mentor_status_service.changes.schemas import ChangeEntrySchema, ChangeFeedSchema, HistorySchema
from mentor_status_service.pausing.schemas import (
    ListPaginationSchema,
    MentorStatusDeletedSchema,
    MentorStatusListSchema,
    MentorStatusSchema,
    PauseRecordDeletedSchema,
    PauseRecordSchema,
)
from mentor_status_service.web.schemas import ErrorSchema, PaginationSchema
from mentor_status_service.webhooks.schemas import (
    WebhookDeletedSchema,
    WebhookListSchema,
    WebhookRotatedSchema,
    WebhookSchema,
    WebhookWithSecretSchema,
)

ADMIN_SECRET = "admin-secret-0123456789"
ADMIN = {"Authorization": f"Bearer {ADMIN_SECRET}"}


@pytest.fixture
def admin(database_url, app):
    return create_app({"DATABASE_URL": database_url, "TESTING": True,
                       "API_TOKENS": f"root:admin:{ADMIN_SECRET}"}).test_client()


def keys(response, status=200):
    """The body's keys in the order they were sent."""
    assert response.status_code == status, response.get_data(as_text=True)
    return list(json.loads(response.get_data()))


def order(schema, *present):
    """The fields `schema` declares, in its order; only those `present` when given (optional ones)."""
    names = [field.data_key or name for name, field in schema().dump_fields.items()]
    return [name for name in names if not present or name in present]


def test_mentor_statuses_and_pause_records_list_fields_in_schema_order(admin):
    mentor = order(MentorStatusSchema)
    record = order(PauseRecordSchema)
    assert keys(admin.post("/api/v1/mentor-statuses", headers=ADMIN, json={
        "mentor_id": "mentor-001", "metadata": {"z": 1, "a": 2}}), 201) == mentor
    assert keys(admin.post("/api/v1/pause-records", headers=ADMIN, json={"mentor_id": "mentor-001"}), 201) == record
    assert keys(admin.get("/api/v1/mentor-statuses/mentor-001", headers=ADMIN)) == mentor
    updated = admin.put("/api/v1/mentor-statuses/mentor-001", headers=ADMIN, json={"metadata": {"z": 1, "a": 2}})
    assert keys(updated) == mentor
    assert keys(admin.get("/api/v1/pause-records/pause-rec-0001", headers=ADMIN)) == record
    assert keys(admin.put("/api/v1/pause-records/pause-rec-0001", headers=ADMIN, json={"reason": "x"})) == record

    mentors = json.loads(admin.get("/api/v1/mentor-statuses", headers=ADMIN).get_data())
    assert list(mentors) == order(MentorStatusListSchema) and list(mentors["data"][0]) == mentor
    assert list(mentors["data"][0]["metadata"]) == ["z", "a"]  # stored JSON as it was sent, not sorted
    assert list(mentors["pagination"]) == order(ListPaginationSchema)
    records = json.loads(admin.get("/api/v1/pause-records", headers=ADMIN).get_data())
    assert list(records["data"][0]) == record
    assert list(records["pagination"]) == order(ListPaginationSchema, "page", "limit", "total", "next_cursor")

    history = json.loads(admin.get("/api/v1/mentor-statuses/mentor-001/history", headers=ADMIN).get_data())
    assert list(history) == order(HistorySchema) and list(history["pagination"]) == order(PaginationSchema)
    assert {tuple(entry) for entry in history["data"]} == {tuple(order(ChangeEntrySchema))}
    feed = json.loads(admin.get("/api/v1/changes", headers=ADMIN).get_data())
    assert list(feed) == order(ChangeFeedSchema)
    assert {tuple(entry) for entry in feed["data"]} == {tuple(order(ChangeEntrySchema))}

    assert keys(admin.delete("/api/v1/pause-records/pause-rec-0001", headers=ADMIN)) == order(
        PauseRecordDeletedSchema)
    assert keys(admin.delete("/api/v1/mentor-statuses/mentor-001", headers=ADMIN)) == order(
        MentorStatusDeletedSchema)


def test_webhooks_and_errors_list_fields_in_schema_order(admin):
    created = admin.post("/api/v1/webhooks", headers=ADMIN, json={"url": "https://93.184.215.14/hooks"})
    assert keys(created, 201) == order(WebhookWithSecretSchema)
    webhook = f"/api/v1/webhooks/{created.json['webhook_id']}"
    assert keys(admin.get(webhook, headers=ADMIN)) == order(WebhookSchema)
    assert keys(admin.post(f"{webhook}/rotate-secret", headers=ADMIN, json={}), 201) == order(WebhookRotatedSchema)
    webhooks = json.loads(admin.get("/api/v1/webhooks", headers=ADMIN).get_data())
    assert list(webhooks) == order(WebhookListSchema) and list(webhooks["data"][0]) == order(WebhookSchema)
    assert keys(admin.delete(webhook, headers=ADMIN)) == order(WebhookDeletedSchema)

    assert keys(admin.post("/api/v1/mentor-statuses", headers=ADMIN, json={"mentor_id": ""}), 422) == order(
        ErrorSchema)
    assert keys(admin.get("/api/v1/mentor-statuses/nobody", headers=ADMIN), 404) == order(
        ErrorSchema, "code", "status", "message")
