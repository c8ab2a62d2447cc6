"""The counts the database keeps beside the pauses (migrations 0016-0018: returns per day, spans per
day by the mentor's status, the status each pause carries, the mentors whose spans may overlap),
checked against what the tables hold, for `servers.table_violations`."""
from collections import Counter

_STATUS = "CASE WHEN m.paused THEN 'paused' ELSE m.base_status END"  # of the mentor row m, now


def span_days_of(pauses):
    """(kind, day, status) of each count migrations 0017 and 0018 keep, for pauses (start, expected
    return, end, status of their mentor), as 0017's docstring defines them: a span with an end later
    than its start, by the days it starts and ends; one without an end, by the day it starts and of
    its expected return, or, when that is its start, by that day alone."""
    def day(moment):
        return str(moment)[:10]

    for start, expected, end, status in pauses:
        if end is not None and str(end) > str(start):
            yield from (("ended_start", day(start), status), ("ended_end", day(end), status))
        elif end is None and (expected is None or str(expected) > str(start)):
            yield ("open_start", day(start), status)
            if expected is not None:
                yield ("open_return", day(expected), status)
        elif end is None:
            yield ("open_no_span", day(start), status)


def overlapping_mentors(pauses):
    """The mentors with two pauses (mentor, start, end) whose spans may overlap, as migration 0018
    defines them: a pause without an end date taken to have none, one ending at its start to have
    no span."""
    spans = {}
    for mentor_id, start, end in pauses:
        if end is None or str(end) > str(start):
            spans.setdefault(mentor_id, []).append((str(start), None if end is None else str(end)))
    return {mentor_id for mentor_id, theirs in spans.items()
            if any(first_start <= second_start and (first_end is None or second_start < first_end)
                   for i, (first_start, first_end) in enumerate(theirs)
                   for j, (second_start, _) in enumerate(theirs) if i != j)}


def kept_count_violations(rows, postgresql):
    """What the kept counts say that the tables do not; `rows(sql)` runs a query. Empty when they agree."""
    problems = []
    day = "CAST(expected_return_date AS DATE)" if postgresql else "date(expected_return_date)"
    kept_days = dict(rows("SELECT day, SUM(pauses) FROM (SELECT day, pauses FROM return_day_totals UNION ALL SELECT "
                          "day, pauses FROM return_day_totals_delta) AS kept GROUP BY day HAVING SUM(pauses) <> 0"))
    counted_days = dict(rows(f"SELECT {day}, COUNT(*) FROM pause_record WHERE state = 'active' AND "
                             f"expected_return_date IS NOT NULL GROUP BY {day}"))
    if kept_days != counted_days:
        problems.append(f"active pauses due per day: kept {kept_days}, the tables hold {counted_days}")
    kept_spans = {(kind, str(day), status): int(pauses) for kind, day, status, pauses in rows(
        "SELECT kind, day, status, SUM(pauses) FROM (SELECT kind, day, status, pauses FROM span_day_totals UNION ALL "
        "SELECT kind, day, status, pauses FROM span_day_totals_delta) AS kept GROUP BY kind, day, status "
        "HAVING SUM(pauses) <> 0")}
    counted_spans = Counter(span_days_of(rows(
        f"SELECT p.start_date, p.expected_return_date, p.end_date, {_STATUS} FROM pause_record p "
        "JOIN mentor_status m ON m.mentor_id = p.mentor_id")))
    if kept_spans != counted_spans:
        problems.append(f"pause spans per day: kept {kept_spans}, the tables hold {dict(counted_spans)}")
    for record_id, carried, status in rows(
            f"SELECT p.id, p.status_of_mentor, {_STATUS} FROM pause_record p JOIN mentor_status m "
            f"ON m.mentor_id = p.mentor_id WHERE p.status_of_mentor <> {_STATUS}"):
        problems.append(f"pause record {record_id} carries its mentor's status as {carried!r}, not {status!r}")
    flagged = {mentor_id for (mentor_id,) in rows("SELECT mentor_id FROM mentor_overlapping_spans")}
    overlapping = overlapping_mentors(rows("SELECT mentor_id, start_date, end_date FROM pause_record"))
    if flagged != overlapping:
        problems.append(f"mentors with spans that may overlap: kept {sorted(flagged)}, the tables hold "
                        f"{sorted(overlapping)}")
    return problems
