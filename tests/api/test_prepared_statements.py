"""On PostgreSQL the statements the service builds once are prepared on each connection and run by
name (mentor_status_service/db/server_prepared.py); one PostgreSQL cannot prepare runs as text, and
behind a transaction-pooling PgBouncer the first miss switches preparing off and the request still
answers, written once."""
import logging

import psycopg2
import pytest
from factories import create_mentor
from pgbouncer import pgbouncer_or_skip
from servers import fresh_postgresql_url

from mentor_status_service import create_app
from mentor_status_service.db import database, migrate
from mentor_status_service.db.server_prepared import statement_name

LOGGER = "mentor_status_service.db.server_prepared"


def prepared_on_this_connection():
    names = {name for (name,) in database.execute_sql("SELECT name FROM pg_prepared_statements").fetchall()}
    database.close()
    return names


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_read_is_prepared_at_its_first_run_and_then_run_by_name(client):
    create_mentor(client, "mentor-001", metadata={"notes": "100% here"})  # a percent sign in a value
    first = client.get("/api/v1/mentor-statuses/mentor-001")
    prepared = prepared_on_this_connection()
    again = client.get("/api/v1/mentor-statuses/mentor-001")

    assert first.status_code == again.status_code == 200
    assert again.json == first.json and first.json["metadata"] == {"notes": "100% here"}
    assert any(name.startswith("s_") for name in prepared)
    assert prepared_on_this_connection() == prepared  # run by name: nothing prepared the second time
    assert client.get("/api/v1/mentor-statuses/mentor-002").status_code == 404


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_statement_postgresql_cannot_prepare_runs_as_text_and_its_transaction_goes_on(client, caplog):
    create_mentor(client, "mentor-001")
    unpreparable = "SELECT %s IS NULL"  # nothing tells the parameter's type
    with caplog.at_level(logging.INFO, logger=LOGGER), database.atomic():
        assert database.obj.execute_prepared(unpreparable, [None]).fetchone() == (True,)
        database.execute_sql("UPDATE mentor_status SET metadata = '{\"notes\": \"kept\"}' "
                             "WHERE mentor_id = 'mentor-001'")
    database.close()

    assert client.get("/api/v1/mentor-statuses/mentor-001").json["metadata"] == {"notes": "kept"}
    assert statement_name(unpreparable) not in prepared_on_this_connection()
    assert "running a statement unprepared" in caplog.text


@pytest.fixture
def own_pgbouncer_url():
    """A PgBouncer of this test's own: no server connection has prepared anything yet."""
    bouncer = pgbouncer_or_skip(fresh_postgresql_url())
    yield bouncer.url
    database.close_all()
    bouncer.stop()


def test_behind_a_transaction_pooler_the_first_miss_switches_preparing_off(own_pgbouncer_url, capsys):
    database_url = own_pgbouncer_url
    client = create_app({"DATABASE_URL": database_url, "TESTING": True}).test_client()  # logs to this test's stdout
    migrate()
    # The miss may come at any request: the vacuumer shares PgBouncer's server connections.
    create_mentor(client, "mentor-001")  # its INSERT is prepared on the server connection that ran it
    assert client.get("/api/v1/mentor-statuses/mentor-001").status_code == 200
    # Another client's transaction holds that server connection: PgBouncer gives the service's
    # next transaction another one, where neither statement was prepared.
    holder = psycopg2.connect(database_url)
    try:
        holder.cursor().execute("SELECT 1")  # psycopg2 opened a transaction: held until rollback
        created = client.post("/api/v1/mentor-statuses", json={"mentor_id": "mentor-002", "status": "active"})
        read = client.get("/api/v1/mentor-statuses/mentor-001")
    finally:
        holder.rollback()
        holder.close()

    assert created.status_code == 201, created.json
    assert read.status_code == 200 and read.json["mentor_id"] == "mentor-001"
    assert database.obj.prepares is False
    assert capsys.readouterr().out.count("statements run unprepared from now on") == 1
    entries = client.get("/api/v1/changes", query_string={"mentor_id": "mentor-002"}).json["data"]
    assert [(entry["id"], entry["event"]) for entry in entries] == [("mentor-002", "created")]  # written once
    assert client.get("/api/v1/mentor-statuses").json["pagination"]["total"] == 2
