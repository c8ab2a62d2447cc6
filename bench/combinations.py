"""Every list a coordinator can compose, generated from the lists' argument schemas (`--scale`).

Each list's filters are the fields of its args schema that are not paging, order or format; each
filter gets its values from the schema too: every choice of a OneOf, true and false for a boolean,
one moment for a datetime, one interval for an interval field, a seeded id or reason for the
fields named so. Every value, alone, is crossed with every sort key in both directions and no sort
(the sort field's own OneOf), plus the list with no filter. A filter added to a schema later is
measured without anyone listing it; one for which no value can be made is reported as
`no generator` (never skipped in silence), and a value the schema itself refuses as `rejected`.

Each combination's first page is asked for over one keep-alive connection per service, the services
(10,000 and 1,000,000 rows) in turn request by request: its p50 over up to REQUESTS requests, or
what TIME_BUDGET_S allows (at least MIN_REQUESTS).
"""
import http.client
import statistics
import sys
import time
from urllib.parse import unquote, urlencode, urlparse

from marshmallow import ValidationError, fields, validate

from . import seed

REQUESTS = 15
MIN_REQUESTS = 3
TIME_BUDGET_S = 1.5
MOMENT = "2026-05-15T00:00:00Z"  # seeded active pauses are due back in May or June 2026
INTERVAL = "2026-05-01/2026-06-01"
# Fields whose values no type tells, by name: a seeded mentor (paused, with history) and a seeded reason.
BY_NAME = {"mentor_id": [seed.mentor_id(10)], "reason": ["personal_leave"]}
# Not filters: paging, order, format, and the calendar key (a credential, accepted with format=ics only).
NOT_FILTERS = ("page", "limit", "cursor", "format", "sort", "key")


def lists():
    """{path: args schema class}: the lists the API serves, as their views declare them."""
    from mentor_status_service.pausing.schemas import MentorStatusListArgsSchema, PauseRecordListArgsSchema

    return {"/api/v1/mentor-statuses": MentorStatusListArgsSchema,
            "/api/v1/pause-records": PauseRecordListArgsSchema}


def _choices(field):
    validators = field.validators if hasattr(field, "validators") else []
    for validator in validators:
        if isinstance(validator, validate.OneOf):
            return [str(choice) for choice in validator.choices]
    return None


def _looks_like_interval(field):
    text = f"{type(field).__name__} {field.metadata.get('description', '')}".lower()
    return "window" in text or "interval" in text


def values_of(name, field):
    """The query values to measure `field` with, or None when no generator knows it."""
    if (choices := _choices(field)) is not None:
        return choices
    if name in BY_NAME:
        return BY_NAME[name]
    if isinstance(field, fields.Boolean):
        return ["true", "false"]
    if isinstance(field, (fields.DateTime, fields.Date)):
        return [MOMENT]
    if _looks_like_interval(field):
        return [INTERVAL]
    return None


def generate(lists_by_path=None):
    """([(path, query dict)], [problem line]) for every combination of every list."""
    combos, problems = [], []
    for path, schema_class in (lists_by_path or lists()).items():
        schema = schema_class()
        sorts = [None, *(_choices(schema.fields["sort"]) or [])]
        filters = [{}]
        for name, field in schema.fields.items():
            if name in NOT_FILTERS or field.dump_only:
                continue
            values = values_of(name, field)
            if values is None:
                problems.append(f"{path} {name} ({type(field).__name__}): no generator, NOT MEASURED")
                continue
            for value in values:
                try:
                    schema.load({name: value})
                except ValidationError as error:
                    problems.append(f"{path} {name}={value}: rejected by the schema ({error.messages}), NOT MEASURED")
                    continue
                filters.append({name: value})
        combos += [(path, {**query, **({"sort": sort} if sort else {})}) for query in filters for sort in sorts]
    return combos, problems


def url_of(path, query):
    return f"{path}?{urlencode(query)}" if query else path


def containing(combos, text):
    """The combinations whose path and query, as the table shows them, contain `text` (`--only`)."""
    return [(path, query) for path, query in combos if text in unquote(url_of(path, query))]


def scan(base_urls, combos, log=print):
    """[{url: p50 ms}, ...], one per service of `base_urls`, of each combination's first page (None
    when it did not answer 200). The services are asked in turn, request by request, so that a
    machine busy with other work slows them alike."""
    connections = [http.client.HTTPConnection(urlparse(base).hostname, urlparse(base).port, timeout=600)
                   for base in base_urls]
    results = [{} for _ in base_urls]
    try:
        for path, query in combos:
            url = url_of(path, query)
            timings = [[] for _ in base_urls]
            failed = set()
            started = time.monotonic()
            for number in range(REQUESTS + 1):  # the first is a warm-up: its statements get prepared
                for index, connection in enumerate(connections):
                    if index in failed:
                        continue
                    begun = time.perf_counter()
                    connection.request("GET", url)
                    response = connection.getresponse()
                    response.read()
                    if response.status != 200:
                        failed.add(index)
                        log(f"{base_urls[index]}{url}: answered {response.status}")
                    elif number:
                        timings[index].append((time.perf_counter() - begun) * 1000)
                if number >= MIN_REQUESTS and time.monotonic() - started > TIME_BUDGET_S:
                    break
            for index, result in enumerate(results):
                result[url] = None if index in failed else statistics.median(timings[index])
    finally:
        for connection in connections:
            connection.close()
    return results


GROWTH_LIMIT = 2.0


def table(small_rows, small, large_rows, large, problems):
    """One line per combination, the slowest growth first; problems below. `small_rows` and
    `large_rows`: the sizes, or what else names the two sides (the services' URLs)."""
    small_rows, large_rows = (f"{side:,}" if isinstance(side, int) else side for side in (small_rows, large_rows))
    lines = [f"| list | query | p50 ms at {small_rows} | p50 ms at {large_rows} | growth | within "
             f"{GROWTH_LIMIT:g}x |", "|---|---|---:|---:|---:|:-:|"]
    rows = []
    for url, before in small.items():
        after = large.get(url)
        growth = after / before if before and after is not None else float("inf")
        rows.append((growth, url, before, after))
    rows.sort(key=lambda row: -row[0])
    over = sum(growth > GROWTH_LIMIT for growth, *_ in rows)
    for growth, url, before, after in rows:
        path, _, query = url.partition("?")
        lines.append(f"| {path.rsplit('/', 1)[-1]} | `{unquote(query) or '(none)'}` | {_ms(before)} | {_ms(after)} | "
                     f"{growth:.2f}x | {'yes' if growth <= GROWTH_LIMIT else 'NO'} |")
    summary = f"{len(rows) - over} of {len(rows)} combinations within {GROWTH_LIMIT:g}x; {over} over."
    return "\n".join([summary, "", *lines, *([""] + [f"- {problem}" for problem in problems] if problems else [])])


def table_of(sizes, scanned):
    """`table` of what runs.run_combinations returns, scanned at `sizes` (smaller first)."""
    (small_rows, large_rows), (small, large) = sizes, scanned["p50_ms"]
    return table(small_rows, small, large_rows, large, scanned["problems"])


def _ms(value):
    return "error" if value is None else f"{value:.1f}"


def main(argv):
    """`python -m bench.combinations URL [URL2]`: scan a running service (two: compare them)."""
    combos, problems = generate()
    for problem in problems:
        print(f"[bench] {problem}", file=sys.stderr)
    results = scan(argv, combos)
    if len(results) == 2:
        print(table(argv[0], results[0], argv[1], results[1], problems))
    else:
        for url, p50 in sorted(results[0].items(), key=lambda item: -(item[1] or 1e9)):
            print(f"{_ms(p50):>8} {url}")


if __name__ == "__main__":
    main(sys.argv[1:])
