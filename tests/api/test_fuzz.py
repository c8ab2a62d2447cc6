"""Schemathesis against the service's own /openapi.json, every operation, on both backends.

Each operation gets `MAX_EXAMPLES` generated requests that fit the document (positive) and as
many that break it (negative), sent through the WSGI app; half of the requests to an item
path use ids that exist, so the fuzzing reaches the writes and not only their 404s. Every
operation is fuzzed at each of its two path forms, as documented and under the contract alias.
Every response must pass: no 5xx, a documented status code, a documented content type, a body
that matches the documented schema. And the run must have sent them: at least `MIN_CASES` per
operation, mode and path form (some with ids that exist), so that a fuzzer generating nothing fails.

The examples are derandomized so that CI is repeatable; `FUZZ_RANDOM=1` explores new ones
(and `FUZZ_EXAMPLES=<n>` runs more of them).

Schemathesis's own pytest integration (`schemathesis.pytest.from_fixture`) does not run under
pytest 9, so the operations are driven here with Hypothesis directly, as its Python API allows.
"""
import os

import hypothesis
import pytest
import schemathesis
from factories import create_mentor, create_pause
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from mentor_status_service import CONTRACT_PATH_PREFIX

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SETTINGS = hypothesis.settings(
    max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=not os.environ.get("FUZZ_RANDOM"),
    suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.generate, hypothesis.Phase.shrink],
    print_blob=False)
# Per operation and mode, the fewest generated requests that must be sent: Hypothesis makes
# `MAX_EXAMPLES` of them unless it runs out of distinct inputs first, and half is far from that.
MIN_CASES = max(1, MAX_EXAMPLES // 2)
MIN_KNOWN_IDS = max(1, MAX_EXAMPLES // 10)  # of those to an item path, the fewest with ids that exist
# Operations with no input at all: a single request is every case there is.
NO_INPUT = {"GET /healthz", "GET /readyz"}
# What negative generation cannot break (no input, or only a path id that may be any string): it says
# so (Unsatisfiable) rather than sending nothing silently.
# (A DELETE has its Idempotency-Key header to break.)
NOTHING_TO_BREAK = NO_INPUT | {"GET /api/v1/mentor-statuses/{mentor_id}", "GET /api/v1/pause-records/{pause_record_id}"}
# The two path forms: each path as documented, and under the contract's doubled prefix.
PATH_FORMS = {"documented": None, "contract-alias": f"http://localhost{CONTRACT_PATH_PREFIX}"}
# Totals across the run, for the README's figures (printed with `-s`).
EXECUTED = {"cases": 0}


def seed_data(client):
    """Mentors in every status and pause records in both states, for fuzzed ids to hit."""
    create_mentor(client, "mentor-001")
    create_mentor(client, "mentor-002", status="paused", pause_reason="personal_leave",
                  expected_return_date="2027-01-01T00:00:00Z")
    create_mentor(client, "mentor-003", status="inactive", metadata={"notes": "seed"})
    past = create_pause(client, "mentor-001", start_date="2025-01-01", end_date="2025-02-01", reason="travel")
    active = create_pause(client, "mentor-003", reason="certification_expiry")
    return {"mentor_id": ["mentor-001", "mentor-002", "mentor-003"],
            "pause_record_id": [past["pause_record_id"], active["pause_record_id"], "pause-rec-0001"],
            # With no admin token configured every webhook endpoint is a 403, whatever the id.
            "webhook_id": ["wh-0000000000000000"]}


def operation_strategy(operation, mode, known_ids):
    """Cases for `operation`; for item paths, half of them with an id that exists."""
    strategy = operation.as_strategy(generation_mode=mode)
    names = [parameter.name for parameter in operation.path_parameters]
    if not names:
        return strategy
    known = st.fixed_dictionaries({name: st.sampled_from(known_ids[name]) for name in names}).flatmap(
        lambda ids: operation.as_strategy(generation_mode=mode, path_parameters=ids))
    return st.one_of(strategy, known)


def fuzz_operation(app, operation, mode, known_ids, base_url):
    """Send the generated cases of `operation`; returns (how many were sent and answered, how
    many of them named only ids that exist)."""
    sent = {"cases": 0, "known ids": 0}

    @SETTINGS
    @given(case=operation_strategy(operation, mode, known_ids))
    def run(case):
        response = case.call(app=app, base_url=base_url)
        sent["cases"] += 1
        EXECUTED["cases"] += 1
        if case.path_parameters and all(value in known_ids[name] for name, value in case.path_parameters.items()):
            sent["known ids"] += 1
        case.validate_response(response, checks=CHECKS)
        assert response.headers.get("x-content-type-options") == ["nosniff"]  # schemathesis lowercases names
        assert b"Traceback" not in response.content

    run()
    return sent["cases"], sent["known ids"]


def too_few(label, mode, cases, known):
    """Why `cases` generated requests (`known` of them with ids that exist) are too few, or None."""
    if mode == GenerationMode.NEGATIVE and label in NOTHING_TO_BREAK:
        return None  # only ever Unsatisfiable, checked where it is raised
    least = 1 if label in NO_INPUT else MIN_CASES
    if cases < least:
        return f"{label}: {cases} generated requests sent, fewer than {least}"
    if "{" in label and known < MIN_KNOWN_IDS:
        return f"{label}: {known} generated requests with ids that exist, fewer than {MIN_KNOWN_IDS}"
    return None


@pytest.mark.parametrize("path_form", PATH_FORMS)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_every_operation_survives_generated_requests(app, client, mode, path_form):
    known_ids = seed_data(client)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    failures, fuzzed = [], []
    for result in schema.get_all_operations():
        operation = result.ok()
        if path_form == "contract-alias" and not operation.path.startswith("/api/v1/"):
            continue  # the alias serves the API, not /healthz and /readyz
        fuzzed.append(operation.label)
        try:
            cases, known = fuzz_operation(app, operation, mode, known_ids, PATH_FORMS[path_form])
        except hypothesis.errors.Unsatisfiable:
            if not (mode == GenerationMode.NEGATIVE and operation.label in NOTHING_TO_BREAK):
                failures.append(f"{operation.label}: no case could be generated (Unsatisfiable)")
            continue
        except Exception as error:  # every operation is fuzzed before the test reports
            failures.append(f"{operation.label}:\n{error}")
            continue
        if mode == GenerationMode.NEGATIVE and operation.label in NOTHING_TO_BREAK and cases:
            failures.append(f"{operation.label}: {cases} negative cases for an operation with nothing to break; "
                            "update NOTHING_TO_BREAK")
        failures.append(too_few(operation.label, mode, cases, known))
    assert len(fuzzed) >= (12 if path_form == "contract-alias" else 14), fuzzed  # 12 API operations, /healthz, /readyz
    failures = [failure for failure in failures if failure]
    assert not failures, "\n\n".join(failures)


def test_zz_report_fuzz_cases_executed():
    """Not a check: prints how many generated requests the fuzz tests sent (run with -s)."""
    print(f"\nfuzz: {EXECUTED['cases']} generated requests, {MAX_EXAMPLES} examples per operation, mode and path form")
