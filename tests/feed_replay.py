"""Following the change feed as a consumer would, and rebuilding the API's state from it."""


def follow_feed(get, after=0, limit=100):
    """Every entry past `after`, read page by page, sending back `next_after` each time;
    `get(path, params)` returns parsed JSON (any client)."""
    entries = []
    while True:
        body = get("/api/v1/changes", {"after": after, "limit": limit})
        entries += body["data"]
        if not body["data"]:
            return entries
        after = body["next_after"]


def replayed_state(entries):
    """{(resource, id): representation} after applying each entry's `after` and dropping each deletion."""
    state = {}
    for entry in entries:
        key = (entry["resource"], entry["id"])
        if entry["event"] == "deleted":
            state.pop(key, None)
        else:
            state[key] = entry["after"]
    return state


def listed_state(get):
    """{(resource, id): representation} of everything the two lists show."""
    state = {}
    for path, resource, id_field in (("/api/v1/mentor-statuses", "mentor_status", "mentor_id"),
                                     ("/api/v1/pause-records", "pause_record", "pause_record_id")):
        page = 1
        while True:
            body = get(path, {"limit": 100, "page": page})
            state.update(((resource, item[id_field]), item) for item in body["data"])
            if not body["data"]:
                break
            page += 1
    return state
