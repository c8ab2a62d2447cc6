"""`python -m bench --scale` measures every combination the list schemas allow: each filter value
alone and no filter, crossed with every sort in both directions and none; a filter it cannot make a
value for is reported, never skipped in silence."""
from marshmallow import fields, validate

from bench import combinations
from mentor_status_service.pausing.schemas import MentorStatusListArgsSchema, PauseRecordListArgsSchema
from mentor_status_service.web.schemas import UtcDateTime


def queries_of(combos, path):
    return [query for each_path, query in combos if each_path == path]


def test_every_filter_value_is_crossed_with_every_sort_and_none():
    combos, problems = combinations.generate()
    mentors = queries_of(combos, "/api/v1/mentor-statuses")
    sorts = [None, *MentorStatusListArgsSchema().fields["sort"].validate.choices]
    assert problems == []
    assert len(sorts) == 11 and "-last_updated" in sorts
    filters = [{}, {"status": "active"}, {"status": "paused"}, {"status": "inactive"}, {"is_paused": "true"},
               {"is_paused": "false"}, {"expected_return_before": combinations.MOMENT}, {"overdue": "true"},
               {"overdue": "false"}, {"out_during": combinations.INTERVAL},
               {"available_during": combinations.INTERVAL}]
    assert len(mentors) == len(filters) * len(sorts)
    for query in filters:
        for sort in sorts:
            assert {**query, **({"sort": sort} if sort else {})} in mentors
    records = queries_of(combos, "/api/v1/pause-records")
    assert {"reason": "personal_leave", "sort": "-start_date"} in records
    assert {"is_active": "false", "sort": "expected_return_date"} in records
    assert {"during": combinations.INTERVAL, "sort": "-start_date"} in records
    assert not any("key" in query for query in records)  # a calendar key is a credential, not a filter
    record_sorts = 1 + len(PauseRecordListArgsSchema().fields["sort"].validate.choices)
    assert len(records) % record_sorts == 0 and len(records) // record_sorts >= 5  # no filter, and 4 or more
    for name, field in PauseRecordListArgsSchema().fields.items():  # a filter added since (state) is there
        for choice in getattr(field.validate, "choices", ()) if name != "sort" and name != "format" else ():
            assert {name: choice} in records


class LaterListArgs(PauseRecordListArgsSchema):
    state = fields.String(validate=validate.OneOf(("scheduled", "active", "ended")))
    during = fields.String(metadata={"description": "An interval <start>/<end>"})
    since = UtcDateTime()
    shape = fields.Raw()
    tag = fields.String(validate=validate.Length(max=3))


def test_a_filter_added_later_is_measured_or_reported():
    combos, problems = combinations.generate({"/later": LaterListArgs})
    queries = queries_of(combos, "/later")

    for state in ("scheduled", "active", "ended"):
        assert {"state": state, "sort": "-created_at"} in queries
    assert {"during": combinations.INTERVAL} in queries and {"since": combinations.MOMENT} in queries
    assert any("shape" in problem and "no generator" in problem for problem in problems)
    assert any("tag" in problem and "no generator" in problem for problem in problems)
    assert not any("shape" in query or "tag" in query for query in queries)


def test_only_keeps_the_combinations_whose_query_contains_the_text():
    combos, _ = combinations.generate()

    chosen = combinations.containing(combos, "reason=")

    assert len(chosen) == 11 and {path for path, _ in chosen} == {"/api/v1/pause-records"}
    assert all(query["reason"] == "personal_leave" for _, query in chosen)
    assert combinations.containing(combos, "") == combos
