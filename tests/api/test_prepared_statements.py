"""On PostgreSQL the statements the service builds once are prepared on each connection and run by
name (mentor_status_service/db/server_prepared.py); a list page whose only values are its page and
a filter by one of a few values is prepared with them written in, and planned once; a connection
keeps its most recently used ones, up to a bound; one PostgreSQL cannot prepare runs as text, and behind a
transaction-pooling PgBouncer the first miss switches preparing off and the request still answers,
written once."""
import logging

import psycopg2
import pytest
from factories import create_mentor
from pgbouncer import pgbouncer_or_skip
from servers import fresh_postgresql_url

from mentor_status_service import create_app
from mentor_status_service.db import database, migrate, server_prepared, sql_cache
from mentor_status_service.db.server_prepared import statement_name
from mentor_status_service.db.sql_cache import PreparedQuery
from mentor_status_service.pausing.models import MentorStatus

LOGGER = "mentor_status_service.db.server_prepared"


def prepared_on_this_connection():
    names = {name for (name,) in database.execute_sql("SELECT name FROM pg_prepared_statements").fetchall()}
    database.close()
    return names


def plans_of_statements_with(text):
    """(parameter types, generic plans, custom plans) of each statement prepared here whose SQL has `text`."""
    rows = database.execute_sql("SELECT parameter_types::text, generic_plans, custom_plans FROM pg_prepared_statements "
                                "WHERE strpos(statement, %s) > 0", [text]).fetchall()
    database.close()
    return rows


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


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_list_page_is_prepared_with_its_page_and_status_written_in_and_planned_once(client):
    for number in range(1, 6):
        create_mentor(client, f"mentor-{number:03d}", status="inactive" if number % 2 else "active")
    pages = [client.get("/api/v1/mentor-statuses", query_string={"limit": 2, "page": 2}) for _ in range(3)]
    inactive = [client.get("/api/v1/mentor-statuses", query_string={"status": "inactive", "limit": 2, "page": 2})
                for _ in range(3)]

    assert all(page.status_code == 200 and page.json == pages[0].json for page in pages)
    assert [row["mentor_id"] for row in pages[0].json["data"]] == ["mentor-003", "mentor-004"]
    assert all(page.json == inactive[0].json for page in inactive)
    assert [row["mentor_id"] for row in inactive[0].json["data"]] == ["mentor-005"]
    assert inactive[0].json["pagination"]["total"] == 3
    # Each page's statement takes no parameter, and PostgreSQL planned it once, at its first run.
    assert plans_of_statements_with("LIMIT 3 OFFSET 2") == [("{}", 3, 0)] * 2
    assert any("'inactive'" in sql for (sql,) in database.execute_sql(
        "SELECT statement FROM pg_prepared_statements WHERE strpos(statement, 'LIMIT 3 OFFSET 2') > 0").fetchall())
    database.close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_deep_page_keeps_its_offset_a_parameter(client, monkeypatch):
    for number in range(1, 6):
        create_mentor(client, f"mentor-{number:03d}")
    monkeypatch.setattr(sql_cache, "LITERAL_INT_MAX", 3)  # as if offset 4 were past 1,000
    deep = client.get("/api/v1/mentor-statuses", query_string={"limit": 2, "page": 3})
    shallow = client.get("/api/v1/mentor-statuses", query_string={"limit": 2, "page": 2})

    assert [row["mentor_id"] for row in deep.json["data"]] == ["mentor-005"]
    assert [row["mentor_id"] for row in shallow.json["data"]] == ["mentor-003", "mentor-004"]
    assert [types for types, *_ in plans_of_statements_with(" OFFSET $")] == ["{bigint,bigint}"]
    assert [types for types, *_ in plans_of_statements_with(" LIMIT 3 OFFSET 2")] == ["{}"]


# Gives back its key, whatever it is: a value written into the SQL must come back unchanged.
_ECHO = PreparedQuery(lambda db, text: MentorStatus.select(text.alias("echo")).limit(1), literal_keys=(0,))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_value_written_into_a_prepared_statement_is_quoted_as_the_driver_quotes_it(client):
    create_mentor(client, "mentor-001")
    awkward = "it's 100% \\ here; --\n$1 %s %%"
    with database.connection_context():
        assert _ECHO.rows(awkward) == [(awkward,)]
        assert _ECHO.rows("plain") == [("plain",)]
    assert [types for types, *_ in plans_of_statements_with('AS "echo"')] == ["{}", "{}"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_feed_is_prepared_with_its_limit_and_resource_written_in_and_planned_once_for_every_position(client):
    for number in range(1, 7):
        create_mentor(client, f"mentor-{number:03d}", status="paused" if number % 2 else "active")
    positions = [0, 1, 2, 3] * 2
    pages = [client.get("/api/v1/changes", query_string={"after": after, "limit": 2, "resource": "mentor_status"})
             for after in positions]
    mentor_changes = [entry["change_id"] for entry in client.get(
        "/api/v1/changes", query_string={"resource": "mentor_status"}).json["data"]]

    assert all(page.status_code == 200 for page in pages)
    assert [[entry["change_id"] for entry in page.json["data"]] for page in pages] == [
        [change for change in mentor_changes if change > after][:2] for after in positions]
    [(sql,)] = database.execute_sql(
        "SELECT statement FROM pg_prepared_statements WHERE strpos(statement, 'LIMIT 2') > 0 "
        "AND strpos(statement, 'change_entry') > 0").fetchall()
    assert "'mentor_status'" in sql and '"change_id" > $1' in sql
    # The position stays a parameter, and from the sixth run on PostgreSQL keeps one plan for all of them.
    [(types, generic, custom)] = plans_of_statements_with("LIMIT 2")
    assert (types, generic, custom) == ("{bigint}", 3, 5)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_list_page_whose_position_stays_a_parameter_keeps_its_limit_and_status_parameters_too(client):
    for number in range(1, 6):
        create_mentor(client, f"mentor-{number:03d}")
    query = {"status": "active", "limit": 2, "sort": "-created_at"}
    first = client.get("/api/v1/mentor-statuses", query_string=query).json
    following = client.get("/api/v1/mentor-statuses", query_string={
        **query, "cursor": first["pagination"]["next_cursor"]}).json

    assert [row["mentor_id"] for row in first["data"] + following["data"]] == [
        "mentor-005", "mentor-004", "mentor-003", "mentor-002"]
    # A list's plan may depend on its position: PostgreSQL plans such a page with all its values.
    pages = [sql for (sql,) in database.execute_sql(
        "SELECT statement FROM pg_prepared_statements WHERE strpos(statement, ' OFFSET ') > 0").fetchall()]
    database.close()
    assert len(pages) == 2
    [written_in] = [sql for sql in pages if "LIMIT 3 OFFSET 0" in sql]  # the first page: one more row, to tell the next
    [with_position] = [sql for sql in pages if sql is not written_in]
    assert "'active'" in written_in and "$" not in written_in.split(" AS ", 1)[1]
    assert '"base_status" = $1' in with_position and with_position.endswith("LIMIT $4 OFFSET $5")


def pages_prepared_here():
    """The OFFSET of each list page prepared on this connection (LIMIT 2: pages of one mentor)."""
    return sorted(int(sql.rsplit("LIMIT 2 OFFSET ", 1)[1].split(")", 1)[0]) for (sql,) in database.execute_sql(
        "SELECT statement FROM pg_prepared_statements WHERE strpos(statement, 'LIMIT 2 OFFSET ') > 0").fetchall())


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_connection_keeps_its_most_recently_used_statements_and_deallocates_the_others_within_transactions_too(
        client, monkeypatch):
    for number in range(1, 9):
        create_mentor(client, f"mentor-{number:03d}")
    database.execute_sql("DEALLOCATE ALL")
    database.connection().prepared.clear()
    monkeypatch.setattr(server_prepared, "PREPARED_PER_CONNECTION", 3)

    def page(number):
        response = client.get("/api/v1/mentor-statuses", query_string={"limit": 1, "page": number})
        return response.json["data"][0]["mentor_id"]

    firsts = [page(number) for number in range(1, 9)]
    after_eight = pages_prepared_here()
    assert page(6) == "mentor-006"  # used again: now the most recent
    with database.atomic():  # a statement prepared within a transaction deallocates the least recently used
        assert page(1) == "mentor-001"
        within = pages_prepared_here()
    assert database.obj.prepares  # nothing was unknown to the server: preparing goes on

    assert firsts == [f"mentor-{number:03d}" for number in range(1, 9)]
    assert after_eight == [5, 6, 7]  # pages 6 to 8 (OFFSET 5 to 7), the three used last
    assert within == [0, 5, 7]  # page 7 (OFFSET 6), used least recently, gave its place to page 1
    assert len(database.connection().prepared) == 3


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
