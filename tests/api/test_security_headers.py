"""Headers that protect clients: every response of the API (errors and 304s included) is private
and revalidated; the /docs page cannot be framed and runs no script but the service's own."""
import base64
import hashlib
import re

import pytest
from factories import create_mentor, create_pause

from mentor_status_service import create_app
from mentor_status_service.db import database

CACHE_CONTROL = "private, no-cache"
ALIAS = "/api/v1/mentor-statuses"
READ_SECRET = "read-secret-0123456789"
WRITE_SECRET = "write-secret-0123456789"
API_READS = ["/api/v1/mentor-statuses", "/api/v1/mentor-statuses/mentor-001",
             "/api/v1/mentor-statuses/mentor-001/history", "/api/v1/pause-records",
             "/api/v1/pause-records/pause-rec-0001", "/api/v1/changes"]


@pytest.fixture
def seeded(client):
    create_mentor(client)
    create_pause(client)
    return client


def both_forms(paths):
    return [form for path in paths for form in (path, ALIAS + path)]


def test_every_read_of_the_api_and_its_304_is_private_and_revalidated(seeded):
    for path in both_forms(API_READS):
        read = seeded.get(path)
        not_modified = seeded.get(path, headers={"If-None-Match": read.headers["ETag"]})
        head = seeded.head(path)
        for response in (read, not_modified, head, seeded.options(path)):
            assert response.headers.get("Cache-Control") == CACHE_CONTROL, (path, response.status_code)
        assert (read.status_code, not_modified.status_code) == (200, 304)


def test_every_write_and_every_error_of_the_api_is_private_and_revalidated(seeded):
    responses = [
        seeded.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-002"}),
        seeded.put("/api/v1/mentor-statuses/mentor-002", json={"metadata": {"v": 1}}),
        seeded.delete(f"{ALIAS}/api/v1/mentor-statuses/mentor-002"),
        seeded.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-001"}),  # 409
        seeded.post("/api/v1/mentor-statuses", data="{", content_type="application/json"),  # 400
        seeded.post("/api/v1/mentor-statuses", data="x", content_type="text/plain"),  # 415
        seeded.post("/api/v1/mentor-statuses", json={}),  # 422
        seeded.put("/api/v1/mentor-statuses/mentor-001", json={"status": "active"}, headers={"If-Match": '"x"'}),
        seeded.get("/api/v1/mentor-statuses/nobody"),  # 404 of a view
        seeded.get("/api/v1/no-such-thing"),  # 404 of no route
        seeded.get(f"{ALIAS}/api/v1/no-such-thing"),
        seeded.patch("/api/v1/changes"),  # 405
        seeded.open(f"{ALIAS}/api/v1/changes", method="PROPFIND"),
        seeded.get("/api/v1/changes", query_string={"after": -1}),  # 422 of a query
    ]

    assert sorted({response.status_code for response in responses}) == [200, 201, 400, 404, 405, 409, 412, 415, 422]
    for response in responses:
        assert response.headers.get("Cache-Control") == CACHE_CONTROL, (response.status_code, response.json)


def test_refusals_of_the_api_are_private_and_revalidated(app):
    client = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "API_PUBLIC_READS": "false",
                         "API_TOKENS": f"dashboard:read:{READ_SECRET},hr-sync:write:{WRITE_SECRET}"}).test_client()
    try:
        responses = [client.get("/api/v1/changes"), client.get(f"{ALIAS}/api/v1/changes"),
                     client.post("/api/v1/mentor-statuses", json={"mentor_id": "m"},
                                 headers={"Authorization": f"Bearer {READ_SECRET}"})]
    finally:
        database.close()

    assert [response.status_code for response in responses] == [401, 401, 403]
    assert all(response.headers.get("Cache-Control") == CACHE_CONTROL for response in responses)


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"])
def test_what_is_not_the_api_keeps_its_own_caching(client, path):
    assert client.get(path).headers.get("Cache-Control") != CACHE_CONTROL


def test_the_docs_page_cannot_be_framed_and_runs_only_its_own_scripts(client):
    response = client.get("/docs")

    assert response.status_code == 200
    assert response.headers["X-Frame-Options"] == "DENY"
    policy = dict(directive.strip().split(" ", 1)
                  for directive in response.headers["Content-Security-Policy"].split(";"))
    assert policy["frame-ancestors"] == "'none'" and policy["default-src"] == "'none'"
    scripts = policy["script-src"].split()
    assert scripts[0] == "'self'" and all(source.startswith("'sha256-") for source in scripts[1:])
    inline = re.findall(rb"<script>(.*?)</script>", response.data, re.DOTALL)
    assert inline and {f"'sha256-{base64.b64encode(hashlib.sha256(script).digest()).decode()}'"
                       for script in inline} == set(scripts[1:])
    assert "X-Frame-Options" not in client.get("/api/v1/mentor-statuses").headers
