"""CORS_ORIGINS: browsers on those origins may call the API; others, and every origin when it is
unset, get no CORS headers at all."""
import pytest
from factories import create_mentor

from mentor_status_service import create_app
from mentor_status_service.config import Config
from mentor_status_service.db import database

DASHBOARD = "https://dashboard.example"
PREFLIGHT = {"Access-Control-Request-Method": "PUT",
             "Access-Control-Request-Headers": "Authorization, Content-Type, If-Match, If-None-Match"}


@pytest.fixture
def cors_client(app):
    app = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "TESTING": True,
                      "CORS_ORIGINS": f"{DASHBOARD}, https://other-dashboard.example"})
    yield app.test_client()
    database.close()


def cors_headers(response):
    return {name: value for name, value in response.headers.items() if name.startswith("Access-Control-")}


def listed(value):
    return {item.strip().lower() for item in value.split(",")}


def test_a_preflight_from_an_allowed_origin_allows_the_methods_and_headers(cors_client):
    response = cors_client.options("/api/v1/mentor-statuses/mentor-001", headers={"Origin": DASHBOARD, **PREFLIGHT})

    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == DASHBOARD
    assert {"get", "post", "put", "delete"} <= listed(response.headers["Access-Control-Allow-Methods"])
    assert listed(response.headers["Access-Control-Allow-Headers"]) == {
        "authorization", "content-type", "if-match", "if-none-match"}


def test_a_preflight_allows_an_idempotency_key(cors_client):
    response = cors_client.options("/api/v1/mentor-statuses", headers={
        "Origin": DASHBOARD, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type, Idempotency-Key"})

    assert listed(response.headers["Access-Control-Allow-Headers"]) == {"content-type", "idempotency-key"}


def test_a_request_from_an_allowed_origin_may_read_etag_location_and_link(cors_client):
    response = cors_client.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-001"},
                                headers={"Origin": DASHBOARD})

    assert response.status_code == 201
    assert response.headers["Access-Control-Allow-Origin"] == DASHBOARD
    assert listed(response.headers["Access-Control-Expose-Headers"]) == {"etag", "location", "link"}
    assert "Origin" in response.headers["Vary"]


@pytest.mark.parametrize("path, code", [("/api/v1/mentor-statuses", 200), ("/metrics", 200),
                                        ("/api/v1/mentor-statuses/nobody", 404)])
def test_the_api_and_metrics_answer_allowed_origins_errors_included(cors_client, path, code):
    response = cors_client.get(path, headers={"Origin": DASHBOARD})

    assert response.status_code == code
    assert response.headers["Access-Control-Allow-Origin"] == DASHBOARD


def test_another_origin_gets_no_cors_headers(cors_client):
    preflight = cors_client.options("/api/v1/mentor-statuses", headers={"Origin": "https://evil.example", **PREFLIGHT})
    read = cors_client.get("/api/v1/mentor-statuses", headers={"Origin": "https://evil.example"})

    assert cors_headers(preflight) == {} and cors_headers(read) == {}


def test_without_cors_origins_no_response_has_cors_headers(client):
    create_mentor(client)
    preflight = client.options("/api/v1/mentor-statuses", headers={"Origin": DASHBOARD, **PREFLIGHT})
    read = client.get("/api/v1/mentor-statuses/mentor-001", headers={"Origin": DASHBOARD})

    assert cors_headers(preflight) == {} and cors_headers(read) == {}
    assert "Origin" not in read.headers.get("Vary", "")


def test_a_star_allows_any_origin(app):
    client = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "CORS_ORIGINS": "*"}).test_client()

    response = client.get("/api/v1/mentor-statuses", headers={"Origin": "https://anywhere.example"})

    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_cors_origins_come_from_the_environment():
    assert Config({"CORS_ORIGINS": " https://a.example ,https://b.example,"}).CORS_ORIGINS == (
        "https://a.example", "https://b.example")
    assert Config({}).CORS_ORIGINS == ()
