import re
import socket

import flask_smorest
import pytest
from openapi_spec_validator import validate

from mentor_status_service import CONTRACT_PATH_PREFIX, create_app
from mentor_status_service.db import database, open_database
from mentor_status_service.db.handle import UnsupportedDatabaseURL


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_healthz_is_200(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_200_when_the_database_answers(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json["database"] == "ok"


def test_without_a_database_readyz_and_the_api_are_503_json_and_healthz_stays_200():
    app = create_app({"DATABASE_URL": f"postgresql://postgres@127.0.0.1:{closed_port()}/none"})
    client = app.test_client()

    ready = client.get("/readyz")
    api = client.get("/api/v1/mentor-statuses")

    assert ready.status_code == 503 and ready.json["code"] == 503
    assert api.status_code == 503 and api.json["message"].startswith("The database is unavailable")
    assert "Traceback" not in api.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200


def test_a_database_fault_that_is_not_an_outage_is_a_500_not_a_503(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as in production, not raise into the test
    database.execute_sql("DROP TABLE list_totals")

    response = app.test_client().get("/api/v1/mentor-statuses")

    assert response.status_code == 500 and "Retry-After" not in response.headers
    assert "list_totals" not in response.get_data(as_text=True)


def served_operations(app):
    """(OpenAPI path, method) of every route the app serves through a flask-smorest blueprint, but for
    the contract's aliases of them (the same views under a doubled prefix, left out of the document)."""
    rules = [rule for rule in app.url_map.iter_rules()
             if isinstance(app.blueprints.get(rule.endpoint.partition(".")[0]), flask_smorest.Blueprint)]
    paths = {rule.rule for rule in rules}
    return {(re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule), method.lower())
            for rule in rules if not (rule.rule.startswith(CONTRACT_PATH_PREFIX + "/")
                                      and rule.rule.removeprefix(CONTRACT_PATH_PREFIX) in paths)
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_openapi_document_is_valid_and_lists_every_operation(app, client):
    document = client.get("/openapi.json").json

    validate(document)
    operations = {(path, method) for path, item in document["paths"].items() for method in item
                  if method != "parameters"}
    assert operations == served_operations(app)
    assert {("/api/v1/mentor-statuses/{mentor_id}", "put"), ("/api/v1/changes", "get"),
            ("/api/v1/webhooks/{webhook_id}/replay", "post"), ("/healthz", "get")} <= operations
    put = document["paths"]["/api/v1/pause-records/{pause_record_id}"]["put"]
    assert {"200", "401", "404", "409", "413", "415", "422"} <= set(put["responses"])


def test_docs_page_loads_its_assets_from_this_service(client):
    page = client.get("/docs").get_data(as_text=True)

    assert "/docs/assets/swagger-ui-bundle.js" in page and "//" not in page.split("<script")[1].split(">")[0]
    for asset in ("swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"):
        response = client.get(f"/docs/assets/{asset}")
        assert response.status_code == 200 and len(response.data) > 1000
        response.close()


def test_db_commands_report_migrations(runner):
    assert runner.invoke(args=["db", "upgrade"]).output.strip() == "schema is up to date"
    status = runner.invoke(args=["db", "status"]).output

    assert status.startswith("0001_initial") and "pending" not in status


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:///file.db?timeout=5"])
def test_sqlite_urls_that_are_not_one_file_are_refused(url):
    with pytest.raises(UnsupportedDatabaseURL):
        open_database(url)


@pytest.mark.parametrize("url, path", [
    ("sqlite:///relative/file.db", "relative/file.db"),
    ("sqlite:////absolute/file.db", "/absolute/file.db"),
])
def test_sqlite_urls_name_relative_and_absolute_files(url, path):
    assert open_database(url).database == path


@pytest.mark.parametrize("url", ["postgres://user:p%40ss@db.example:5433/app",
                                 "postgresql://user:p%40ss@db.example:5433/app"])
def test_both_heroku_postgresql_url_forms_are_accepted(url):
    database = open_database(url)

    assert database.database == "app"
    assert database.connect_params["password"] == "p@ss" and database.connect_params["port"] == 5433


def test_other_database_urls_are_refused():
    with pytest.raises(UnsupportedDatabaseURL):
        open_database("mysql://root@localhost/app")
