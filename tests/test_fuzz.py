"""Schemathesis against the service's own /openapi.json, every operation, on both backends.

Each operation gets `MAX_EXAMPLES` generated requests that fit the document (positive) and as
many that break it (negative), sent through the WSGI app; half of the requests to an item
path use ids that exist, so the fuzzing reaches the writes and not only their 404s. Every
response must pass: no 5xx, a documented status code, a documented content type, a body that
matches the documented schema.

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
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "50"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SETTINGS = hypothesis.settings(
    max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=not os.environ.get("FUZZ_RANDOM"),
    suppress_health_check=list(HealthCheck), phases=[hypothesis.Phase.generate, hypothesis.Phase.shrink],
    print_blob=False)
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


def fuzz_operation(app, operation, mode, known_ids):
    @SETTINGS
    @given(case=operation_strategy(operation, mode, known_ids))
    def run(case):
        EXECUTED["cases"] += 1
        response = case.call(app=app)
        case.validate_response(response, checks=CHECKS)
        assert response.headers.get("x-content-type-options") == ["nosniff"]  # schemathesis lowercases names
        assert b"Traceback" not in response.content

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_every_operation_survives_generated_requests(app, client, mode):
    known_ids = seed_data(client)
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    failures, operations = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        try:
            fuzz_operation(app, operation, mode, known_ids)
        except hypothesis.errors.Unsatisfiable:
            # Nothing about it can be made invalid (GET /healthz; a path id that is any non-empty string).
            assert mode == GenerationMode.NEGATIVE, operation.label
        except Exception as error:  # every operation is fuzzed before the test reports
            failures.append(f"{operation.label}:\n{error}")
    assert operations >= 12
    assert not failures, "\n\n".join(failures)


def test_zz_report_fuzz_cases_executed():
    """Not a check: prints how many generated requests the fuzz tests sent (run with -s)."""
    print(f"\nfuzz: {EXECUTED['cases']} generated requests, {MAX_EXAMPLES} examples per operation and mode")
