"""Fair use through a real Redis that the test starts: one limit, exact across gunicorn processes and
instances; a Redis that stops answering lets requests through, counted and logged once."""
import http_sfv
import pytest
import requests
from redis_server import RedisServer
from servers import Gunicorn, reset_postgresql

LIST = "/api/v1/mentor-statuses"


def remaining(response):
    """`r` of the RateLimit header, parsed as the structured-field list it is."""
    current = http_sfv.List()
    current.parse(response.headers["RateLimit"].encode())
    [item] = current
    return item.params["r"]


@pytest.fixture
def served_database(database_url):
    if database_url.startswith("postgresql"):
        reset_postgresql(database_url)
    return database_url


@pytest.mark.slow
def test_with_redis_the_limit_holds_exactly_across_processes_and_instances(served_database):
    limited = {"RATE_LIMIT": "10/hour"}
    with RedisServer() as redis, \
            Gunicorn(served_database, workers=1, env={**limited, "RATE_LIMIT_STORAGE_URL": redis.url}) as first, \
            Gunicorn(served_database, workers=1, env={**limited, "RATE_LIMIT_STORAGE_URL": redis.url}) as second:
        responses = [requests.get(server.base_url + LIST, timeout=10) for _ in range(8) for server in (first, second)]

    assert [response.status_code for response in responses] == [200] * 10 + [429] * 6
    assert [remaining(response) for response in responses] == [*range(9, -1, -1)] + [0] * 6


@pytest.mark.slow
def test_a_redis_that_stops_answering_lets_requests_through_counted_and_logged_once(served_database):
    with RedisServer() as redis, \
            Gunicorn(served_database, workers=1, env={"RATE_LIMIT": "10/hour",
                                                      "RATE_LIMIT_STORAGE_URL": redis.url}) as server:
        def get(path=LIST):
            return requests.get(server.base_url + path, timeout=10)

        assert remaining(get()) == 9
        redis.freeze()  # a connection that no longer answers: the client gives up after a second
        while_frozen = [get() for _ in range(3)]
        redis.kill()  # and then no Redis at all
        while_gone = [get() for _ in range(3)]
        metrics = get("/metrics").text
        log = server.output()

    assert [response.status_code for response in while_frozen + while_gone] == [200] * 6
    assert not any("RateLimit" in response.headers for response in while_frozen + while_gone)
    assert "mentor_status_rate_limit_unchecked_total 6.0" in metrics
    assert log.count("rate limit storage did not answer") == 1, log
