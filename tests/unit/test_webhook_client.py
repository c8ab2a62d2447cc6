"""The delivery process's HTTP client and schedule, in this process: the host resolved once and
checked, the connection made to the checked address with the URL's name as Host and TLS server
name, and the retry arithmetic. Only 127.0.0.1 is listened on; names are resolved by a stand-in."""
import http.server
import socket
import ssl
import subprocess
import threading

import pytest
from webhook_receivers import Receiver

from mentor_status_service.webhooks.client import Answer, Client, _retry_after_s
from mentor_status_service.webhooks.delivery import Settings
from mentor_status_service.webhooks.retries import next_delay_s
from mentor_status_service.webhooks.urls import RefusedURL, check

NAME = "hooks.example.test"


def settings(allow_private=False, allow_http=True, timeout_s=2):
    return Settings(timeout_s, (5, 300), allow_http, allow_private, 1, 0.1)


@pytest.fixture
def resolver(monkeypatch):
    """Resolves NAME to whatever `answers` holds, and counts the lookups."""
    real = socket.getaddrinfo
    state = {"answers": ["93.184.215.14"], "lookups": 0}

    def getaddrinfo(host, port, *args, **kwargs):
        if host != NAME:
            return real(host, port, *args, **kwargs)
        state["lookups"] += 1
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in state["answers"]]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return state


def test_a_name_that_resolves_to_loopback_is_refused_at_the_connection(resolver):
    resolver["answers"] = ["127.0.0.1"]
    with Receiver() as receiver:
        port = receiver.url.rsplit(":", 1)[1]
        answer = Client(settings()).post(f"http://{NAME}:{port}/hooks", b"{}", {})

        assert answer.status_code is None and answer.error.startswith("refused:")
        assert NAME in answer.error and "127.0.0.1" not in answer.error  # the host, never what it resolved to
        assert receiver.received == []


def test_a_name_public_when_saved_and_private_when_delivered_gets_nowhere(resolver):
    with Receiver() as receiver:
        url = f"http://{NAME}:{receiver.url.rsplit(':', 1)[1]}/hooks"
        check(url, allow_http=True, allow_private=False)  # saved: it resolved to a public address
        resolver["answers"] = ["127.0.0.1"]  # then the name is rebound
        lookups = resolver["lookups"]

        answer = Client(settings()).post(url, b"{}", {})

        assert answer.error.startswith("refused:") and receiver.received == []
        assert resolver["lookups"] == lookups + 1  # resolved once, and that answer was the one checked


def test_any_private_address_among_those_a_name_resolves_to_is_refused(resolver):
    resolver["answers"] = ["93.184.215.14", "10.0.0.1"]

    with pytest.raises(RefusedURL) as refused:
        check(f"https://{NAME}/hooks", allow_http=False, allow_private=False)
    assert NAME in str(refused.value) and "10.0.0.1" not in str(refused.value)


def test_the_connection_goes_to_the_resolved_address_with_the_urls_name_as_host(resolver):
    resolver["answers"] = ["127.0.0.1"]
    with Receiver() as receiver:
        port = receiver.url.rsplit(":", 1)[1]
        answer = Client(settings(allow_private=True)).post(f"http://{NAME}:{port}/hooks?x=1", b"{}", {"a": "b"})

        assert answer == Answer(200, None, None)
        [received] = receiver.received
        assert received.headers["host"] == f"{NAME}:{port}" and received.path == "/hooks?x=1"
        assert received.headers["a"] == "b"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for NAME, and its key."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={NAME}",
                    "-addext", f"subjectAltName=DNS:{NAME}", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture
def tls_receiver(certificate):
    """An https server on 127.0.0.1 that answers 204 and records the TLS server name each client sent."""
    cert, key = certificate
    names, hosts = [], []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: names.append(name)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            hosts.append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], names, hosts
    server.shutdown()
    server.server_close()


def test_tls_uses_the_urls_name_for_sni_and_the_certificate_check(resolver, certificate, tls_receiver,
                                                                   monkeypatch):
    port, names, hosts = tls_receiver
    resolver["answers"] = ["127.0.0.1"]
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # trust the test's certificate only

    answer = Client(settings(allow_private=True, allow_http=False)).post(f"https://{NAME}:{port}/hooks", b"{}", {})

    assert answer.status_code == 204, answer
    assert names == [NAME] and hosts == [f"{NAME}:{port}"]


def test_tls_refuses_a_certificate_not_trusted(resolver, tls_receiver):
    port, names, hosts = tls_receiver
    resolver["answers"] = ["127.0.0.1"]

    answer = Client(settings(allow_private=True, allow_http=False)).post(f"https://{NAME}:{port}/hooks", b"{}", {})

    assert answer.status_code is None and "certificate" in answer.error.lower() and hosts == []


@pytest.mark.parametrize("attempt, answer, delay", [
    (1, Answer(500), 5), (2, Answer(500), 300), (3, Answer(500), None),
    (1, Answer(503, 60), 60), (1, Answer(429, 1), 5), (1, Answer(429, 10_000), 300), (1, Answer(500, 60), 5)])
def test_the_schedule_with_retry_after_honoured_within_it(attempt, answer, delay):
    assert next_delay_s((5, 300), attempt, answer) == delay


@pytest.mark.parametrize("value, seconds", [("120", 120), ("", None), ("soon", None), ("-3", None),
                                            ("Wed, 21 Oct 2015 07:28:00 GMT", 0)])
def test_retry_after_is_read_as_seconds_or_an_http_date(value, seconds):
    assert _retry_after_s(value) == seconds
