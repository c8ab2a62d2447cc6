"""What integrators trip on: unknown parameters, page bounds, Link headers, the 400 body, and the
API document's operation ids and schemas."""
import re

import pytest
from factories import create_mentor

MENTORS = "/api/v1/mentor-statuses"
RECORDS = "/api/v1/pause-records"
OPERATION_IDS = {"listMentorStatuses", "createMentorStatus", "getMentorStatus", "updateMentorStatus",
                 "deleteMentorStatus", "getMentorStatusHistory", "listPauseRecords", "createPauseRecord",
                 "getPauseRecord", "updatePauseRecord", "deletePauseRecord", "listChanges"}
LIST_REQUESTS = [MENTORS, RECORDS, f"{MENTORS}/mentor-001/history", "/api/v1/changes",
                 f"{MENTORS}{MENTORS}", f"{MENTORS}{RECORDS}", f"{MENTORS}/api/v1/changes"]


@pytest.mark.parametrize("path", LIST_REQUESTS)
@pytest.mark.parametrize("unknown", ["mentor_idd", "Status", "page_size", "filter[status]"])
def test_an_unknown_query_parameter_is_422_naming_it(client, path, unknown):
    create_mentor(client)

    response = client.get(path, query_string={unknown: "x", "limit": 5})

    assert response.status_code == 422
    assert response.json["errors"] == {"query": {unknown: ["Unknown field."]}}


def test_a_filter_another_list_has_is_not_silently_ignored(client):
    create_mentor(client)

    response = client.get(MENTORS, query_string={"mentor_id": "mentor-x1"})

    assert response.status_code == 422 and list(response.json["errors"]["query"]) == ["mentor_id"]


@pytest.mark.parametrize("page", [2, 10_000_001, 2_147_483_647])
def test_a_page_past_the_end_is_200_empty_with_the_true_total(client, page):
    create_mentor(client)

    response = client.get(MENTORS, query_string={"page": page, "limit": 100})

    assert response.status_code == 200
    assert response.json == {"data": [], "pagination": {"page": page, "limit": 100, "total": 1, "next_cursor": None}}


@pytest.mark.parametrize("page", ["0", "2147483648", "-1", "1e3"])
def test_a_page_out_of_range_is_422(client, page):
    response = client.get(MENTORS, query_string={"page": page})

    assert response.status_code == 422 and list(response.json["errors"]["query"]) == ["page"]


def links(response):
    return {rel: url for url, rel in re.findall(r'<([^>]*)>; rel="([a-z]+)"', response.headers["Link"])}


@pytest.fixture
def seven_inactive_mentors(client):
    for number in range(1, 8):
        create_mentor(client, f"mentor-{number:03d}", status="inactive")
    create_mentor(client, "mentor-100")


@pytest.mark.parametrize("page, expected", [
    (1, {"first": 1, "last": 3, "next": 2}),
    (2, {"first": 1, "last": 3, "prev": 1, "next": 3}),
    (3, {"first": 1, "last": 3, "prev": 2}),
    (9, {"first": 1, "last": 3, "prev": 3}),
])
def test_list_links_keep_filters_and_limit_on_every_page(client, seven_inactive_mentors, page, expected):
    response = client.get(MENTORS, query_string={"status": "inactive", "limit": 3, "page": page})

    assert links(response) == {rel: f"{MENTORS}?status=inactive&limit=3&page={number}"
                               for rel, number in expected.items()}


def test_links_of_an_empty_list_point_at_page_one(client):
    response = client.get(RECORDS, query_string={"is_active": "true"})

    assert links(response) == {"first": f"{RECORDS}?is_active=true&limit=20&page=1",
                               "last": f"{RECORDS}?is_active=true&limit=20&page=1"}


def test_links_follow_the_contract_alias_they_were_asked_on(client, seven_inactive_mentors):
    response = client.get(f"{MENTORS}{MENTORS}", query_string={"limit": 4})

    assert links(response)["next"] == f"{MENTORS}{MENTORS}?limit=4&page=2"


def test_following_next_links_visits_every_item_once(client, seven_inactive_mentors):
    url, seen = f"{MENTORS}?limit=3", []
    while url:
        response = client.get(url)
        seen += [mentor["mentor_id"] for mentor in response.json["data"]]
        url = links(response).get("next")

    assert seen == [f"mentor-{number:03d}" for number in (*range(1, 8), 100)]


def test_malformed_json_is_400_with_a_message_and_no_errors(client):
    response = client.post(MENTORS, data='{"mentor_id": ', content_type="application/json")

    assert response.status_code == 400
    assert response.json == {"code": 400, "status": "Bad Request", "message": "The request body is not valid JSON."}


def test_every_operation_has_its_unique_operation_id(client):
    document = client.get("/openapi.json").json

    operation_ids = [operation["operationId"] for item in document["paths"].values()
                     for method, operation in item.items() if method != "parameters"]
    assert len(operation_ids) == len(set(operation_ids))
    assert OPERATION_IDS <= set(operation_ids)


def test_the_api_document_has_no_unused_schema_and_errors_name_their_fields(client):
    document = client.get("/openapi.json").json
    text = client.get("/openapi.json").get_data(as_text=True)

    for name in document["components"]["schemas"]:
        assert f'"#/components/schemas/{name}"' in text, f"{name} is never used"
    assert "PaginationMetadata" not in document["components"]["schemas"]
    assert set(document["components"]["schemas"]["Error"]["required"]) == {"code", "status", "message"}
    assert document["servers"] == [{"url": "/", "description": "This service"}]


def test_the_api_document_names_the_conditional_headers_beside_each_operations_parameters(client):
    """Catches a flask-smorest upgrade that changes `_apidoc`, where api.py adds the headers."""
    paths = client.get("/openapi.json").json["paths"]
    put = paths["/api/v1/mentor-statuses/{mentor_id}"]["put"]
    get = paths["/api/v1/pause-records"]["get"]
    assert "If-Match" in [parameter["name"] for parameter in put["parameters"]]
    assert {"If-None-Match", "page", "limit", "mentor_id"} <= {parameter["name"] for parameter in get["parameters"]}
    assert "X-Pagination" not in str(paths)
