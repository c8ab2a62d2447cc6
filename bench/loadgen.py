"""Finding wrk and running it: one call, one case, one result."""
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class WrkError(RuntimeError):
    pass


def find_wrk(log):
    """The wrk binary; installs the Debian package when it is missing and apt-get can."""
    path = shutil.which("wrk")
    if path:
        return path
    if not shutil.which("apt-get"):
        raise WrkError("wrk is not installed and apt-get is not available: install wrk (https://github.com/wg/wrk)")
    log("wrk not found: installing it with `apt-get install -y wrk`")
    result = subprocess.run(["apt-get", "install", "-y", "wrk"], capture_output=True, text=True)
    path = shutil.which("wrk")
    if result.returncode != 0 or not path:
        raise WrkError(f"`apt-get install -y wrk` failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return path


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int  # connect/read/write errors, timeouts, and any non-2xx/3xx answer

    @property
    def rps(self):
        return self.requests / self.seconds if self.seconds else 0.0


def run(wrk, case, url, *, seconds, threads, connections, rows, tag, script=None, threads_of=None):
    """Drive `url` with `case` (or with another of its scripts, `script`) for `seconds`; `rows` and
    `tag` are passed to the Lua script, and `threads_of` (first thread number, thread count of all
    the wrk running side by side), so that they deal out mentors without sharing one."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix=f"bench-{case.name}-") as lua:
        lua.write(case.lua_source(script))
        lua.flush()
        command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                   "-s", lua.name, url, "--", str(rows), str(threads), tag,
                   *(str(number) for number in threads_of or ())]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    return parse(completed, Path(lua.name).name)


def parse(completed, script_name):
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH_RESULT "):
            raw = json.loads(line.removeprefix("BENCH_RESULT "))
            errors = sum(raw[key] for key in ("connect_errors", "read_errors", "write_errors",
                                              "status_errors", "timeouts"))
            return Result(raw["requests"], raw["duration_us"] / 1e6, raw["p50_us"] / 1e3, raw["p99_us"] / 1e3,
                          errors)
    raise WrkError(f"wrk ({script_name}) exited {completed.returncode} without a result:\n"
                   f"{completed.stdout[-2000:]}{completed.stderr[-2000:]}")
