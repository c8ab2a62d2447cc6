"""Which request bodies the gunicorn worker gathers on its selector before a thread runs the request
(server/raw_http.py `buffered_body_length`): one plain Content-Length within the limit; anything else
is left to gunicorn's parser and the app, as before."""
import pytest

from mentor_status_service.server.raw_http import buffered_body_length

LIMIT = 64 * 1024


def head(*headers):
    return b"POST /api/v1/mentor-statuses HTTP/1.1\r\nHost: x\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n"


@pytest.mark.parametrize(("headers", "expected"), [
    ((b"Content-Length: 42",), 42),
    ((b"content-length:0",), 0),
    ((b"CONTENT-LENGTH:   65536  ",), LIMIT),
    ((), None),  # no body announced
    ((b"Content-Length: 65537",), None),  # over the limit: the app answers 413 without reading it
    ((b"Content-Length: 1" + b"0" * 5000,), None),  # far over, in more digits than int() takes
    ((b"Content-Length: 4", b"Content-Length: 4"), None),  # twice: gunicorn's parser decides
    ((b"Content-Length: -1",), None),
    ((b"Content-Length: 0x10",), None),
    ((b"Content-Length: \xd9\xa1",), None),  # a digit, but not an ASCII one
    ((b"Content-Length : 4",), None),  # a space before the colon: gunicorn refuses the head
    ((b"Content-Length: 4", b"Transfer-Encoding: chunked"), None),
    ((b"Content-Length: 4", b"Expect: 100-continue"), None),  # the client waits for an answer first
])
def test_only_one_plain_content_length_within_the_limit_is_gathered(headers, expected):
    assert buffered_body_length(head(*headers), LIMIT) == expected
