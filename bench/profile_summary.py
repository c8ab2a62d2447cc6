"""Where a worker's request time goes, from `python -m bench --profile DIR` (py-spy raw stacks).

    python -m bench.profile_summary DIR

Only samples inside gunicorn's handle_request count, and only on-CPU ones: time a worker spends
waiting (for the database, or for a CPU on a busy machine) is not in these shares.
"""
import re
import sys
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")

# (category, file fragment, function names or None for any), checked from the innermost frame out.
LIBRARIES = (
    ("logging", "logging/", None),
    ("logging", "mentor_status_service/web/logs.py", None),
    ("marshmallow", "marshmallow/", None),
    ("webargs / flask-smorest", "webargs/", None),
    ("webargs / flask-smorest", "flask_smorest/", None),
    ("json encode/decode", "json/", None),
    ("gunicorn: socket write", "gunicorn/util.py", {"write"}),
    ("gunicorn", "gunicorn/", None),
    ("flask / werkzeug", "flask/", None),
    ("flask / werkzeug", "werkzeug/", None),
    ("service code", "mentor_status_service/", None),
)
PEEWEE_WAITS = (("database: BEGIN", {"PostgresqlDatabase.begin", "SqliteDatabase.begin", "Database.begin"}),
                ("database: COMMIT", {"Database.commit"}),
                ("database: connect", {"Database._connect", "PostgresqlDatabase._connect",
                                       "SqliteDatabase._connect", "Database.connect"}),
                ("database: execute (driver + server)", {"Database._execute_cursor", "Database.execute_sql"}))


def parse(path):
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [FRAME.match(frame) for frame in stack.split(";")]
        yield [(m["function"], m["file"]) for m in frames if m], int(count)


def category(frames):
    for function, file in reversed(frames):
        if file.endswith("peewee.py"):
            return peewee_category(frames, function)
        for name, fragment, functions in LIBRARIES:
            if fragment in file and (functions is None or function in functions):
                return name
    return "other"


def peewee_category(frames, innermost):
    for name, functions in PEEWEE_WAITS:
        if innermost in functions:
            return name
    if any(file.endswith("peewee.py") and function == "Context.sql" for function, file in frames):
        return "peewee: building SQL"
    return "peewee: other (rows to models, query objects)"


def summarize(path):
    totals, requests = Counter(), 0
    for frames, count in parse(path):
        if any(function.endswith("handle_request") for function, _ in frames):
            totals[category(frames)] += count
            requests += count
    return totals, requests


def main(argv=None):
    directory = Path((argv or sys.argv[1:])[0])
    for path in sorted(directory.glob("*.txt")):
        totals, samples = summarize(path)
        if not samples:
            continue
        print(f"\n{path.stem} ({samples} samples in requests)")
        for name, count in totals.most_common():
            print(f"  {100 * count / samples:5.1f}%  {name}")


if __name__ == "__main__":
    main()
