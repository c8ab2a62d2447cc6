"""When a failed delivery is tried again: the retry schedule, and a receiver's Retry-After within it."""


RETRY_AFTER_CODES = (429, 503)


def next_delay_s(schedule, attempt, answer):
    """Seconds until the try after failed `attempt` (1 for the first), or None when the schedule is
    spent. A Retry-After on a 429 or 503 is honoured when longer, up to the schedule's longest delay."""
    if attempt > len(schedule):
        return None
    delay = schedule[attempt - 1]
    if answer.status_code in RETRY_AFTER_CODES and answer.retry_after_s is not None:
        delay = max(delay, min(answer.retry_after_s, max(schedule)))
    return delay
