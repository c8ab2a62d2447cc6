"""OPTIONS and made-up methods on every route of the app, both path forms: never a 500; OPTIONS
answers with Allow (CORS preflights too), any other unknown method is a 405 in the error shape."""
import re

import pytest
from factories import create_mentor, create_pause

from mentor_status_service import create_app
from mentor_status_service.db import database

MADE_UP_METHODS = ["FOO", "PROPFIND", "BREW", "X" * 40]
# What each URL variable becomes: ids that exist, so a request reaches its view.
VARIABLES = {"mentor_id": "mentor-001", "pause_record_id": "pause-rec-0001", "webhook_id": "wh-unknown",
             "filename": "swagger-ui.css"}
DASHBOARD = "https://dashboard.example"


def every_path(app):
    """One concrete path per rule of the app's URL map (the contract-literal aliases included)."""
    paths = {re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda match: VARIABLES[match.group(1)], rule.rule)
             for rule in app.url_map.iter_rules()}
    return sorted(paths)


@pytest.fixture
def served(app):
    """A client of the app as a server runs it: an unexpected error is a 500, not raised into the test."""
    app.testing = False
    client = app.test_client()
    create_mentor(client)
    create_pause(client)
    return client


def test_options_on_every_path_of_both_forms_is_200_with_allow(app, served):
    paths = every_path(app)
    assert len(paths) >= 19 and "/api/v1/mentor-statuses/api/v1/changes" in paths

    for path in paths:
        response = served.options(path)
        assert response.status_code == 200, (path, response.status_code)
        allowed = {method.strip() for method in response.headers["Allow"].split(",")}
        assert "OPTIONS" in allowed and allowed & {"GET", "POST"}, (path, allowed)


@pytest.mark.parametrize("method", MADE_UP_METHODS)
def test_a_made_up_method_on_every_path_of_both_forms_is_a_405_in_the_error_shape(app, served, method):
    for path in every_path(app):
        response = served.open(path, method=method)
        assert response.status_code == 405, (path, method, response.status_code)
        assert response.json == {"code": 405, "status": "Method Not Allowed", "message": response.json["message"]}
        assert response.json["message"] and "Allow" in response.headers


def test_a_cors_preflight_works_on_both_path_forms(app):
    cors_app = create_app({"DATABASE_URL": app.config["DATABASE_URL"], "CORS_ORIGINS": DASHBOARD})
    client = cors_app.test_client()
    try:
        for path in [path for path in every_path(app) if path.startswith("/api/")]:
            response = client.options(path, headers={"Origin": DASHBOARD, "Access-Control-Request-Method": "GET"})
            assert response.status_code == 200, path
            assert response.headers["Access-Control-Allow-Origin"] == DASHBOARD, path
    finally:
        database.close()
