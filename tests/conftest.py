import os

import pytest

from mentor_status_service import create_app
from servers import reset_postgresql

from mentor_status_service.db import database, migrate


def postgresql_url():
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set; PostgreSQL runs in CI (.ci/run)")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Each test runs once per backend, on freshly migrated tables."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/test.db"
    return postgresql_url()


@pytest.fixture
def app(database_url):
    if database_url.startswith("postgresql"):
        reset_postgresql(database_url)
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    migrate()
    yield app
    database.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
