"""The exact number of mentors a list names (a `queries.MentorListShape` and its keys), read from the
list totals wherever they can tell it, so that a page costs what its own rows cost; counted only for
a combination they cannot."""
from . import totals, windows


def names(shape, keys):
    """The list totals whose sum is the number of mentors listed, where there are such (else None)."""
    if shape.empty or shape.out or shape.available or shape.before or shape.overdue is True:
        return None
    if shape.paused_only:
        return ("pauses_active",) if shape.overdue is None else None
    statuses = {"active", "inactive", "paused"} if keys[0] is None else {keys[0]}
    if shape.is_paused is False or shape.overdue is False and shape.status is not None:
        statuses -= {"paused"}  # an unpaused mentor is never overdue
    if shape.overdue is False and len(statuses) == 3:
        return None  # every mentor but the overdue ones
    return tuple(totals.TOTAL_OF_STATUS[each] for each in sorted(statuses))


def window_halves(shape, keys):
    """For a list with one window, filtered at most by status or is_paused: how many of the mentors
    it names are paused, and how many not (windows.py); else None."""
    status, before, now, *windows_, _among = keys
    if (shape.out or shape.available) and shape.out != shape.available and not shape.before and shape.overdue is None:
        return windows.listed_by_pause(shape.available, status, shape.is_paused, windows_, now)
    return None


def total(shape, keys, count, due_now=None):
    """The number of mentors `shape` lists with `keys`; `count()` counts them where no total tells it;
    `due_now()`, where given, is totals.due_before(now) (read once for the page: queries.py)."""
    status, before, now, *windows_, _among = keys
    summed = names(shape, keys)
    if shape.empty or summed == ():
        return 0
    if summed:
        return totals.sum_of(*summed)
    if (halves := window_halves(shape, keys)) is not None:
        return sum(halves)
    if shape.out or shape.available:
        return count()
    if shape.paused_only and shape.overdue is not False:
        # Every paused mentor has one active pause: those due before a moment (the earlier of
        # `before` and now when both filters apply).
        return totals.due_before(min(before, now) if shape.before and shape.overdue else before or now)[0]
    if shape.paused_only and not shape.before and shape.status != "unpaused":
        # Paused and not overdue: the active pauses less those due now.
        due, counts = due_now() if due_now else totals.due_before(now)
        return counts["pauses_active"] - due
    if not shape.paused_only:
        # Every mentor but the overdue ones.
        due, counts = due_now() if due_now else totals.due_before(now)
        return sum(counts.values()) - due
    # Paused, expected back before a date, and not overdue: no total tells it.
    return count()
