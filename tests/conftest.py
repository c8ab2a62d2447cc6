import os

import pytest
from pgbouncer import pgbouncer_or_skip
from servers import reset_postgresql

from mentor_status_service import create_app
from mentor_status_service.db import database, migrate

SKIPPED = []  # (node id, reason) of every test or module skipped in this session


def ci_run():
    """CI exports CI=true (and .ci/run does too): there, every test must run, so a skip is a failure."""
    return os.environ.get("CI", "").lower() in ("true", "1")


def pytest_collectreport(report):
    if report.skipped:
        SKIPPED.append((report.nodeid, skip_reason(report)))


def pytest_runtest_logreport(report):
    if report.skipped and not hasattr(report, "wasxfail"):
        SKIPPED.append((report.nodeid, skip_reason(report)))


def skip_reason(report):
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    return reason.removeprefix("Skipped: ")


def pytest_sessionfinish(session, exitstatus):
    if ci_run() and SKIPPED and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if ci_run() and SKIPPED:
        terminalreporter.section("skipped under CI=true, which fails the run", sep="=", red=True, bold=True)
        for nodeid, reason in SKIPPED:
            terminalreporter.line(f"{nodeid}: {reason}")


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
def configured(database_url):
    """Makes an app with extra settings, on freshly migrated tables: `configured(PAUSE_AUTO_RETURN=True)`."""
    def make(**settings):
        if database_url.startswith("postgresql"):
            reset_postgresql(database_url)
        made = create_app({"DATABASE_URL": database_url, "TESTING": True, **settings})
        migrate()
        return made

    yield make
    database.close_all()  # the pool's idle connections too, not left for the garbage collector


@pytest.fixture
def app(configured):
    return configured()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
