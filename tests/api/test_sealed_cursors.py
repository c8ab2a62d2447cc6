"""List cursors are sealed with a secret key kept in the database, made once per database: a
cursor works on every instance and after a restart, but one made with only the source code, or
by another database, is a 422 naming `cursor`."""
import base64
import hashlib
import json

from factories import create_mentor

from mentor_status_service import create_app
from mentor_status_service.db import database, migrate

MENTORS = "/api/v1/mentor-statuses"
# The key the seal used while it was a constant of the source code: anyone could read it.
SOURCE_CODE_KEY = b"mentor-status-service list cursor"


def first_cursor(client):
    for number in range(3):
        create_mentor(client, f"mentor-{number:03d}")
    page = client.get(MENTORS, query_string={"limit": 1}).json
    assert page["pagination"]["next_cursor"]
    return page["pagination"]["next_cursor"]


def assert_refused(response):
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]["query"]) == ["cursor"]


def forged(genuine, position_tie, key):
    """`genuine` (a cursor of the list), moved to `position_tie` and sealed as the service sealed
    cursors, with `key`: what anyone who reads the source code could make."""
    raw = base64.urlsafe_b64decode(genuine + "=" * (-len(genuine) % 4))
    fields = json.loads(raw.rpartition(b".")[0])
    fields[-1] = position_tie
    payload = json.dumps(fields, separators=(",", ":")).encode()
    check = base64.urlsafe_b64encode(hashlib.blake2b(payload, key=key, digest_size=12).digest())
    return base64.urlsafe_b64encode(payload + b"." + check).decode().rstrip("=")


def test_a_cursor_works_on_another_instance_of_the_same_database(client, database_url):
    cursor = first_cursor(client)

    restarted = create_app({"DATABASE_URL": database_url, "TESTING": True}).test_client()
    response = restarted.get(MENTORS, query_string={"limit": 1, "cursor": cursor})

    assert response.status_code == 200, response.json
    assert [mentor["mentor_id"] for mentor in response.json["data"]] == ["mentor-001"]


def test_a_cursor_made_with_only_the_source_code_is_a_422(client):
    genuine = first_cursor(client)
    assert_refused(client.get(MENTORS, query_string={"cursor": forged(genuine, "mentor-001", b"a wrong key")}))

    assert_refused(client.get(MENTORS, query_string={"limit": 1,
                                                     "cursor": forged(genuine, "mentor-001", SOURCE_CODE_KEY)}))


def test_a_cursor_of_another_database_is_a_422(client, tmp_path):
    cursor = first_cursor(client)

    other = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/other.db", "TESTING": True}).test_client()
    migrate()
    for number in range(3):
        create_mentor(other, f"mentor-{number:03d}")
    response = other.get(MENTORS, query_string={"limit": 1, "cursor": cursor})
    database.close_all()

    assert_refused(response)


def test_the_key_is_made_once_per_database_and_kept(app):
    read = "SELECT name, value FROM service_key"
    keys = database.execute_sql(read).fetchall()

    migrate()
    assert database.execute_sql(read).fetchall() == keys
    assert len(keys) == 1 and len(keys[0][1]) >= 64
