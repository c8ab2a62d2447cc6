"""The paused mentors a list names, read from the active pauses that can be listed when the counts
say they are few (at most FEW_PAUSED), so that a page reads among them (`among`, queries.py) rather
than walk every paused mentor in its sort's order, probing each: those available in a window (the
ranges where an active pause's span misses it: windows.py) and those not overdue (due back now or
later, or never). Each range is read along its index and cut after `_CANDIDATES_MAX`; past that
(mentors out for a pause of another state), the page walks as before."""
from peewee import SQL, Cast, Select, fn

from ..db import PreparedQuery, is_postgresql
from . import windows
from .lookups import in_state
from .models import PauseRecord

FEW_PAUSED = 1000  # at most this many by the counts
_CANDIDATES_MAX = 2 * FEW_PAUSED
_Active = PauseRecord.alias("a")


def for_page(shape, paused_alone, halves, window, now, due_now):
    """The ids the paused mentors a page of `shape` (a queries.MentorListShape) lists are among,
    when a statement of it reads them alone (`paused_alone`) and the counts say they are few; else
    None. `halves`: mentor_totals.window_halves; `window`: that of available_during; `due_now()`:
    totals.due_before(now)."""
    if not paused_alone:
        return None
    if halves is not None and shape.available and 0 < halves[0] <= FEW_PAUSED:
        return available_in(window, now)
    if shape.overdue is False and not shape.before and shape.status != "unpaused" and shape.is_paused is not False:
        due, counts = due_now()
        if counts["pauses_active"] - due <= FEW_PAUSED:
            return not_overdue(now)
    return None


def _mentors_of(ranges):
    """A SELECT of the mentors of the active pauses of `ranges` ((column, conditions) each), each
    range in a derived table of its own (SQLite takes no LIMIT on a member of a UNION)."""
    selects = [Select([_Active.select(_Active.mentor).where(in_state(_Active, "active"), *conditions)
                       .order_by(column).limit(_CANDIDATES_MAX + 1).alias(f"range{number}")], [SQL("mentor_id")])
               for number, (column, conditions) in enumerate(ranges)]
    union = selects[0]
    for select in selects[1:]:
        union = union + select
    return union


def _not_overdue(now):
    expected = _Active.expected_return_date
    return _mentors_of([(expected, [expected >= now]), (expected, [expected.is_null()])])


_AVAILABLE = PreparedQuery(lambda db, *keys: _mentors_of(windows.not_overlapping_ranges(_Active, *keys)).bind(db),
                           keys=3)
_NOT_OVERDUE = PreparedQuery(lambda db, now: _not_overdue(now).bind(db), keys=1)


def _ids(rows):
    return [row[0] for row in rows] if len(rows) <= _CANDIDATES_MAX else None


def available_in(window, now):
    """The ids of the paused mentors that may be available in `window` (every one that is, and
    those out for a pause of another state), or None when there are more than `_CANDIDATES_MAX`."""
    return _ids(_AVAILABLE.rows(window.start, window.end, now))


def not_overdue(now):
    """The ids of the paused mentors not overdue at `now`, or None when there are more than `_CANDIDATES_MAX`."""
    return _ids(_NOT_OVERDUE.rows(now))


def among(column, ids):
    """A SQL condition: `column` is one of `ids`, a parameter holding a JSON array of them."""
    elements = fn.json_array_elements_text(Cast(ids, "json")) if is_postgresql() else fn.json_each(ids)
    return column.in_(Select([elements], [SQL("value")]))
