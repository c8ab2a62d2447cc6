"""The pauses and windows the tests of who is out share (test_windows.py, test_mentors_out.py): a
world of mentors whose pauses lie before, around and after now, spans computed from the JSON of
every pause, and the lists those spans give."""
import csv
import datetime as dt
import io
import itertools

from factories import create_mentor, create_pause

from mentor_status_service.db import utc_now

MENTORS = "/api/v1/mentor-statuses"
RECORDS = "/api/v1/pause-records"
DAY = dt.timedelta(days=1)


def parse(text):
    return None if text is None else dt.datetime.fromisoformat(text.removesuffix("Z"))


def text(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def interval(start, end):
    return f"{text(start)}/{text(end)}"


def span(pause, now):
    """[start, end) of a pause as the JSON shows it; end None: no end."""
    start, expected, end = parse(pause["start_date"]), parse(pause["expected_return_date"]), parse(pause["end_date"])
    if end is None and expected is not None and expected > now:
        end = expected
    return start, end


def overlaps(pause, start, end, now):
    pause_start, pause_end = span(pause, now)
    return pause_start < end and (pause_end is None or (pause_end > start and pause_end > pause_start))


def walk(client, path, **query):
    """Every row of a list, by following next_cursor two rows at a time; and the total of each page."""
    rows, totals, cursor = [], set(), None
    while True:
        params = {**query, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, query_string=params)
        assert response.status_code == 200, response.json
        rows += response.json["data"]
        totals.add(response.json["pagination"]["total"])
        cursor = response.json["pagination"]["next_cursor"]
        if cursor is None:
            return rows, totals


def everything(client, path, **query):
    response = client.get(path, query_string={**query, "format": "csv"})
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.text)))


def make_world(client):
    """Mentors whose pauses lie before, around and after now, at whole days from `base` (a midnight
    at least a day away from now, so that no span changes while a test runs)."""
    now = utc_now()
    base = (now - 2 * DAY).replace(hour=0, minute=0, second=0)

    def at(days):
        return text(base + days * DAY)

    create_mentor(client, "free")  # active, never paused
    create_mentor(client, "idle", status="inactive")  # inactive, never paused
    create_mentor(client, "ended")
    create_pause(client, "ended", start_date=at(-40), end_date=at(-30), reason="personal_leave")
    create_mentor(client, "twice")
    create_pause(client, "twice", start_date=at(-30), end_date=at(-20))  # begins exactly when one of ended's ends
    create_pause(client, "twice", start_date=at(-20), end_date=at(-10), reason="training")  # and again
    create_mentor(client, "overdue", status="paused", pause_start_date=at(-20), expected_return_date=at(-5),
                  pause_reason="sick_leave")  # active, past its expected return: no end
    create_mentor(client, "due", status="paused", pause_start_date=at(-10), expected_return_date=at(10))
    create_mentor(client, "open", status="paused", pause_start_date=at(-3))  # no expected return: no end
    create_mentor(client, "ahead")
    create_pause(client, "ahead", start_date=at(20), end_date=at(30), reason="personal_leave")
    create_mentor(client, "later")
    create_pause(client, "later", start_date=at(25), expected_return_date=at(35))  # no end date, begins later
    create_mentor(client, "instant")
    create_pause(client, "instant", start_date=at(-15), end_date=at(-15))  # a span of no length
    create_mentor(client, "retired", status="inactive")
    create_pause(client, "retired", start_date=at(-40), end_date=at(-1))  # inactive, and out then
    create_mentor(client, "back", status="inactive")
    create_pause(client, "back", start_date=at(-60), end_date=at(-50))
    # Spans of one mentor that overlap each other (past pauses may): each such mentor is out once.
    create_mentor(client, "layered")
    for start, end in ((-40, -10), (-30, -20), (-25, -5), (-30, -30)):  # three deep, and one of no length
        create_pause(client, "layered", start_date=at(start), end_date=at(end))
    create_mentor(client, "layered_paused", status="paused", pause_start_date=at(-3))
    create_pause(client, "layered_paused", start_date=at(-12), end_date=at(-1))
    create_pause(client, "layered_paused", start_date=at(-8), end_date=at(-2))
    create_mentor(client, "layered_idle", status="inactive")
    create_pause(client, "layered_idle", start_date=at(-35), end_date=at(-12))
    create_pause(client, "layered_idle", start_date=at(-20), end_date=at(-15))
    create_pause(client, "due", start_date=at(15), expected_return_date=at(20))  # scheduled after its active one
    points = [base + days * DAY for days in (-60, -40, -35, -30, -20, -15, -12, -5, -3, 0, 10, 15, 20, 30, 40)]
    return {"now": now, "base": base, "points": points}


def windows(points):
    return list(itertools.combinations(points, 2))


def all_pauses(client):
    return [dict(row, end_date=row["end_date"] or None, expected_return_date=row["expected_return_date"] or None)
            for row in everything(client, RECORDS)]


def expected_lists(client, start, end, now):
    pauses = all_pauses(client)
    mentors = {row["mentor_id"]: row for row in everything(client, MENTORS)}
    out = {pause["mentor_id"] for pause in pauses if overlaps(pause, start, end, now)}
    available = {mentor_id for mentor_id, row in mentors.items() if row["status"] != "inactive"} - out
    during = [pause["pause_record_id"] for pause in pauses if overlaps(pause, start, end, now)]
    return during, out, available, mentors
