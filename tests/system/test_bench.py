"""The benchmark runs end to end (`python -m bench --short`); its figures are not asserted here."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

from bench.cases import CASE_NAMES

REPO_ROOT = Path(__file__).resolve().parents[2]


def backends_and_env():
    env = dict(os.environ)
    backends = ["sqlite"]
    test_url = os.environ.get("TEST_DATABASE_URL")
    if test_url:
        # A database of its own beside the tests' one: the benchmark drops and recreates it.
        env["BENCH_DATABASE_URL"] = urlunparse(urlparse(test_url)._replace(path="/bench_mentor_status_ci"))
        backends.append("postgresql")
    return backends, env


@pytest.mark.slow
def test_short_benchmark_prints_a_row_for_every_case():
    if not shutil.which("wrk"):
        pytest.skip("wrk is not installed (CI installs it with apt-get install -y wrk)")
    backends, env = backends_and_env()
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--short", "--duration", "1", "--no-docs", "--backends", ",".join(backends)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=150)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    for backend in backends:
        for case in CASE_NAMES:
            row = re.search(rf"^\| {backend} \| {case} \|.*\| (\d+) \|$", completed.stdout, re.M)
            assert row, f"no row for {backend} {case}:\n{completed.stdout}"
            assert row.group(1) == "0", f"{backend} {case}: requests failed (errors column):\n{row.group(0)}"
