"""What is measured: each case is a wrk Lua script (bench/lua/) and the ratio it should reach."""
from dataclasses import dataclass
from pathlib import Path

LUA_DIR = Path(__file__).parent / "lua"


@dataclass(frozen=True)
class Case:
    name: str
    description: str
    script: str
    # Targets for req/s as a share of the ceiling measured in the same run.
    target_sqlite: float | None = None
    target_postgresql: float | None = None
    path: str | None = None  # for fixed_path.lua: the one request it sends
    peer_script: str | None = None  # the same request against json-server (bench/peer.py)
    # With fixed_path.lua: ask for the list's `cursor_page`th page by cursor (bench/driver.py takes the
    # cursor from page cursor_page - 1, or from the deepest page a smaller list has).
    cursor_page: int | None = None

    def target(self, backend):
        return self.target_sqlite if backend == "sqlite" else self.target_postgresql

    def lua_source(self, script=None):
        """The case's script with the shared part (arguments, summary line) in front."""
        fixed = f"path = {self.path!r}\n" if self.path else ""
        return (LUA_DIR / "common.lua").read_text() + "\n" + fixed + (LUA_DIR / (script or self.script)).read_text()


CEILING = Case("ceiling", "bare Flask, constant mentor JSON", "ceiling.lua")

CASES = (
    Case("get_mentor", "GET one mentor (random id)", "get_mentor.lua", 0.60, 0.50, peer_script="peer_get_mentor.lua"),
    Case("get_pause_record", "GET one pause record (random id)", "get_pause_record.lua"),
    Case("list_page", "GET list, limit 20, no filter, with total", "list_page.lua", 0.45, 0.35,
         peer_script="peer_list_page.lua"),
    Case("list_paused", "GET list, limit 20, status=paused, with total", "list_paused.lua", 0.35, 0.30),
    Case("history", "GET one mentor's history, a page of 20 entries", "history.lua", 0.35, 0.30),
    Case("feed", "GET the change feed, a page of 100 entries", "feed.lua", 0.25, 0.20),
    Case("post_mentor", "POST a new mentor", "post_mentor.lua", 0.40, 0.30, peer_script="peer_post_mentor.lua"),
    # Last: it leaves some mentors paused, which the list cases would otherwise see.
    Case("pause_resume", "PUT paused / PUT active, alternating", "pause_resume.lua", 0.30, 0.25),
)

# The lists whose cost grew with the table: run with --list-filters, and by --scale at both sizes.
LIST_FILTER_CASES = (
    Case("list_active_page100", "GET list, status=active, page 100", "fixed_path.lua",
         path="/api/v1/mentor-statuses?status=active&page=100"),
    Case("list_overdue", "GET list, overdue=true", "fixed_path.lua", path="/api/v1/mentor-statuses?overdue=true"),
    Case("list_not_overdue", "GET list, overdue=false", "fixed_path.lua",
         path="/api/v1/mentor-statuses?overdue=false"),
    Case("list_return_before", "GET list, expected_return_before=2026-06-01", "fixed_path.lua",
         path="/api/v1/mentor-statuses?expected_return_before=2026-06-01"),
    Case("pause_records_by_reason", "GET pause records, reason=personal_leave", "fixed_path.lua",
         path="/api/v1/pause-records?reason=personal_leave"),
    Case("list_page1000", "GET list, no filter, page 1000", "fixed_path.lua",
         path="/api/v1/mentor-statuses?page=1000"),
)

# The sorted lists a coordinator opens (issue 16), first page and 1,000th cursor page.
SORTED_PATHS = {
    "paused_by_return": "/api/v1/mentor-statuses?sort=expected_return_date&status=paused",
    "overdue_by_return": "/api/v1/mentor-statuses?overdue=true&sort=expected_return_date",
    "by_last_updated_desc": "/api/v1/mentor-statuses?sort=-last_updated",
    "active_by_created_desc": "/api/v1/mentor-statuses?sort=-created_at&status=active",
    "paused_by_start": "/api/v1/mentor-statuses?sort=pause_start_date&is_paused=true",
    "active_pauses_by_start_desc": "/api/v1/pause-records?sort=-start_date&is_active=true",
    "personal_leave_by_end": "/api/v1/pause-records?sort=end_date&reason=personal_leave",
    "unsorted": "/api/v1/mentor-statuses?sort=mentor_id",  # the default order, said out loud
}
SORTED_CASES = tuple(
    Case(f"sorted_{name}{suffix}", f"GET {path.split('/')[-1]}{', cursor page 1000' if suffix else ''}",
         "fixed_path.lua", path=path, cursor_page=1000 if suffix else None)
    for name, path in SORTED_PATHS.items() for suffix in ("", "_cursor1000") if name != "unsorted" or suffix)
# What a feature costs, by --cases beside the case it changes: the same POST, each with a key of its own.
FEATURE_CASES = (Case("post_mentor_keyed", "POST a new mentor with an Idempotency-Key", "post_mentor_keyed.lua"),)
CASE_NAMES = tuple(case.name for case in CASES)
ALL_CASES = CASES + LIST_FILTER_CASES + SORTED_CASES + FEATURE_CASES
CASES_BY_NAME = {case.name: case for case in ALL_CASES}
# --scale: every list, and GET one for reference, at 10,000 and 1,000,000 rows.
SCALE_CASE_NAMES = ("get_mentor", "list_page", "list_paused") + tuple(
    case.name for case in LIST_FILTER_CASES + SORTED_CASES)
