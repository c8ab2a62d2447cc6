"""Paths with repeated slashes are answered as JSON (never a redirect built from the Host header),
and no response names the server software, gunicorn's own answers included."""
import socket

import pytest
import requests
from factories import create_mentor
from servers import Gunicorn

DOUBLED = ["//api/v1/mentor-statuses", "/api/v1//mentor-statuses", "//healthz", "/api/v1/mentor-statuses//mentor-001",
           "//metrics", "//docs"]


@pytest.mark.parametrize("path", DOUBLED)
def test_a_path_with_repeated_slashes_is_a_json_404_and_never_a_redirect(client, path):
    create_mentor(client)
    response = client.get(path, headers={"Host": "attacker.example"})

    assert response.status_code == 404, (path, response.status_code, response.headers.get("Location"))
    assert "Location" not in response.headers
    assert response.is_json and response.json["code"] == 404


def raw_head(port, request):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.decode("latin-1")


@pytest.mark.slow
def test_no_response_names_the_server_software_gunicorns_own_errors_included(tmp_path):
    with Gunicorn(f"sqlite:///{tmp_path}/server.db", workers=1) as server:
        answers = [requests.get(server.base_url + path, headers={"Host": "attacker.example"}, timeout=5,
                                allow_redirects=False)
                   for path in ("/healthz", "/api/v1/mentor-statuses", "/nowhere", "//api/v1/mentor-statuses")]
        malformed = raw_head(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")

    assert [answer.status_code for answer in answers[:3]] == [200, 200, 404]
    assert answers[3].status_code in (200, 404) and answers[3].headers["Content-Type"] == "application/json"
    for answer in answers:
        assert "Server" not in answer.headers, answer.headers
        assert "Location" not in answer.headers
    assert malformed.startswith("HTTP/1.1 400") and "\r\nserver:" not in malformed.lower(), malformed
