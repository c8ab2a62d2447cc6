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

    def target(self, backend):
        return self.target_sqlite if backend == "sqlite" else self.target_postgresql

    def lua_source(self):
        """The case's script with the shared part (arguments, summary line) in front."""
        return (LUA_DIR / "common.lua").read_text() + "\n" + (LUA_DIR / self.script).read_text()


CEILING = Case("ceiling", "bare Flask, constant mentor JSON", "ceiling.lua")

CASES = (
    Case("get_mentor", "GET one mentor (random id)", "get_mentor.lua", 0.60, 0.50),
    Case("get_pause_record", "GET one pause record (random id)", "get_pause_record.lua"),
    Case("list_page", "GET list, limit 20, no filter, with total", "list_page.lua", 0.35, 0.30),
    Case("list_paused", "GET list, limit 20, status=paused, with total", "list_paused.lua", 0.35, 0.30),
    Case("post_mentor", "POST a new mentor", "post_mentor.lua", 0.40, 0.30),
    # Last: it leaves some mentors paused, which the list cases would otherwise see.
    Case("pause_resume", "PUT paused / PUT active, alternating", "pause_resume.lua", 0.30, 0.25),
)
CASE_NAMES = tuple(case.name for case in CASES)
