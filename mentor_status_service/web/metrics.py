"""Prometheus series and the /metrics view: requests, latency and database outages counted by each
process, summed over gunicorn's workers at scrape time, and the list totals read from their one row.

Under gunicorn, gunicorn.conf.py sets PROMETHEUS_MULTIPROC_DIR before prometheus_client is first
imported, so each worker writes its counts to its own file there; without it (the flask dev server,
tests in one process) the counts stay in this process's memory.
"""
import os
import time

from flask import Blueprint, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from . import auth

# The same test prometheus_client made when first imported, to choose where its counts live.
MULTIPROCESS = "PROMETHEUS_MULTIPROC_DIR" in os.environ
UNMATCHED_ROUTE = "<unmatched>"  # a 404 or 405: one series for every path that matched no route
# A client chooses the method: any other is counted as OTHER_METHOD, so it cannot add series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})
OTHER_METHOD = "other"

# Not in prometheus_client's default registry: each scrape builds the registry it exposes.
REQUESTS = Counter("mentor_status_http_requests", "HTTP requests answered, by route template, method and status.",
                   ("route", "method", "status"), registry=None)
LATENCY = Histogram("mentor_status_http_request_duration_seconds", "Time to answer a request, by route template "
                    "and method.", ("route", "method"), registry=None,
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
# The service answers 503 when the database cannot be reached or is busy, and when a worker's export
# slots are all taken (web/export_streams.py marks those, which are not counted here).
DATABASE_UNAVAILABLE = Counter("mentor_status_database_unavailable", "Requests answered 503 because the "
                               "database could not be reached or was busy.", registry=None)
# Fair use fails open: a request let through because the rate limit's storage did not answer.
RATE_LIMIT_UNCHECKED = Counter("mentor_status_rate_limit_unchecked", "Requests let through without a rate limit "
                               "check because its storage (Redis) did not answer.", registry=None)
PROCESS_METRICS = (REQUESTS, LATENCY, DATABASE_UNAVAILABLE, RATE_LIMIT_UNCHECKED)

blp = Blueprint("metrics", __name__)
blp.before_request(auth.authorize)  # a read of the API's data: it needs a token when reads are protected


@blp.get("/metrics")
def metrics():
    """Every series in Prometheus's text format (or OpenMetrics, when the scraper asks for it)."""
    encode, content_type = choose_encoder(request.headers.get("Accept"))
    return encode(scrape_registry()), 200, {"Content-Type": content_type}


def scraped_by_admin():
    """Whether this scrape was made with an admin token: series that name what only an admin may
    know (webhook ids) are for it alone."""
    token = g.get("token")
    return token is not None and token.allows("admin")


def scrape_registry():
    registry = CollectorRegistry()
    if MULTIPROCESS:
        MultiProcessCollector(registry)  # every worker's counts, read from their files
    else:
        for metric in PROCESS_METRICS:
            registry.register(metric)
    for collector in current_app.extensions["metrics_collectors"]:
        registry.register(collector())
    return registry


def start_timer():
    g.metrics_started = time.perf_counter()


# (route, method, status) -> its request counter and its latency histogram. `labels()` converts and
# looks up its values under a lock on every call; the series, once made, never change, and there are
# as many as routes, methods and statuses (a client cannot add any: see UNMATCHED_ROUTE, METHODS).
_series = {}


def _series_of(route, method, status):
    key = (route, method, status)
    series = _series.get(key)
    if series is None:
        series = _series[key] = (REQUESTS.labels(route, method, status), LATENCY.labels(route, method))
    return series


def count_request(response):
    url_rule = request.url_rule
    method = request.method
    requests, latency = _series_of(url_rule.rule if url_rule is not None else UNMATCHED_ROUTE,
                                   method if method in METHODS else OTHER_METHOD, response.status_code)
    requests.inc()
    latency.observe(time.perf_counter() - g.get("metrics_started", time.perf_counter()))
    if response.status_code == 503 and not g.get("export_slots_full"):
        DATABASE_UNAVAILABLE.inc()
    return response


def init_app(app, collectors=()):
    """Count every request of `app`, and serve /metrics with the series of `collectors` (classes of
    prometheus_client collectors, made anew for each scrape) beside the counts."""
    app.extensions["metrics_collectors"] = tuple(collectors)
    app.before_request(start_timer)
    app.after_request(count_request)
    app.register_blueprint(blp)
