import os

import pytest

from mentor_status_service import create_app
from pgbouncer import pgbouncer_or_skip
from servers import reset_postgresql

from mentor_status_service.db import database
from mentor_status_service.schema import migrate


def postgresql_url():
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip("TEST_DATABASE_URL is not set; PostgreSQL runs in CI (.ci/run)")
    return url


@pytest.fixture(scope="session")
def pgbouncer_url():
    """The test PostgreSQL through a PgBouncer in transaction pooling mode, for the whole session."""
    bouncer = pgbouncer_or_skip(postgresql_url())
    yield bouncer.url
    bouncer.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """Each test runs once per backend, on freshly migrated tables. A module may add "pgbouncer"
    (PostgreSQL through PgBouncer) with `pytest.mark.parametrize("database_url", [...], indirect=True)`."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/test.db"
    if request.param == "pgbouncer":
        return request.getfixturevalue("pgbouncer_url")
    return postgresql_url()


@pytest.fixture
def app(database_url):
    if database_url.startswith("postgresql"):
        reset_postgresql(database_url)
    app = create_app({"DATABASE_URL": database_url, "TESTING": True})
    migrate()
    yield app
    database.close_all()  # the pool's idle connections too, not left for the garbage collector


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
