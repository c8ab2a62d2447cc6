"""Sizes as stored and as returned: metadata is kept as the compact UTF-8 it was checked as (so a
response is never much larger than its request), and a feed page stops before 1 MiB of body."""
import json

from factories import create_mentor

from mentor_status_service.changes.log import within_page_size
from mentor_status_service.pausing.models import MentorStatus

MENTORS = "/api/v1/mentor-statuses"
MiB = 1024 * 1024


def post_json(client, path, document):
    """`document` sent as the standard library writes it (\\u escapes), lone surrogates included."""
    return client.post(path, data=json.dumps(document), content_type="application/json")


def test_an_emoji_heavy_metadata_of_16_kb_gives_a_response_of_about_as_much(client):
    metadata = {"notes": "\U0001F600" * 4000, "by": "caf\u00e9 \u2603"}  # 16,000 bytes of UTF-8 emoji
    request_body = json.dumps({"mentor_id": "mentor-001", "metadata": metadata}, ensure_ascii=False).encode()

    created = client.post(MENTORS, data=request_body, content_type="application/json")
    read = client.get(f"{MENTORS}/mentor-001")
    history = client.get(f"{MENTORS}/mentor-001/history")

    assert created.status_code == 201, created.json
    assert len(request_body) < 16_100
    assert len(created.data) < 17_000 and len(read.data) < 17_000 and len(history.data) < 17_500
    assert read.json["metadata"] == metadata and history.json["data"][0]["after"]["metadata"] == metadata
    assert "\U0001F600" in MentorStatus.get_by_id("mentor-001").metadata_json  # stored as UTF-8, not \ud83d\ude00


def test_metadata_with_lone_surrogates_and_nul_round_trips(client):
    metadata = {"nul": "a\u0000b", "lone": "\ud800 and \udfff", "\udc01key": ["\ud83d", "\U0001F600"]}

    created = post_json(client, MENTORS, {"mentor_id": "mentor-001", "metadata": metadata})
    updated = client.put(f"{MENTORS}/mentor-001", data=json.dumps({"metadata": {**metadata, "v": 2}}),
                         content_type="application/json")

    assert created.status_code == 201, created.json
    assert updated.status_code == 200, updated.json
    assert client.get(f"{MENTORS}/mentor-001").json["metadata"] == {**metadata, "v": 2}
    entries = client.get("/api/v1/changes").json["data"]
    assert [entry["after"]["metadata"] for entry in entries] == [metadata, {**metadata, "v": 2}]
    stored = MentorStatus.get_by_id("mentor-001").metadata_json
    assert "\\ud800" in stored and "\\u0000" in stored and "\U0001F600" in stored


def test_a_feed_page_stops_before_1_mib_and_a_walk_still_sees_every_entry_once(client):
    for number in range(40):  # 40 created entries of 16 KB, 40 updated of 32 KB: about 2 MB in all
        create_mentor(client, f"mentor-{number:03d}", metadata={"notes": "c" * 16_300})
        response = client.put(f"{MENTORS}/mentor-{number:03d}", json={"metadata": {"notes": "u" * 16_300}})
        assert response.status_code == 200, response.json

    seen, sizes, after = [], [], 0
    while True:
        page = client.get("/api/v1/changes", query_string={"after": after, "limit": 1000})
        assert page.status_code == 200
        if not page.json["data"]:
            break
        sizes.append(len(page.data))
        seen += [entry["change_id"] for entry in page.json["data"]]
        assert page.json["next_after"] == page.json["data"][-1]["change_id"]
        after = page.json["next_after"]

    assert len(seen) == 80 and len(set(seen)) == 80 and seen == sorted(seen)
    assert len(sizes) >= 2 and max(sizes) < MiB and sum(sizes) > 1.5 * MiB


def test_a_page_always_holds_its_first_entry_however_large():
    rows = [(number, *[None] * 7, "b" * 600, "a" * 600) for number in range(1, 4)]

    assert within_page_size(rows, max_bytes=100) == rows[:1]
    assert within_page_size(rows, max_bytes=2 * (600 * 2 + 600)) == rows[:2]
    assert within_page_size(rows) == rows and within_page_size([]) == []
