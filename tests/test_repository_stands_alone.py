"""A clone of this repository is complete: no tracked file links or refers to a path outside it, or
to documents that exist only beside it."""
import shutil
import subprocess
from pathlib import Path

import pytest
from servers import REPO_ROOT

OUTSIDE_REFERENCES = ("../", "LIBRARY_NOTES", "SPEC.md", "/work/")
ALLOWED = {
    # Path traversal attempts that the API must refuse: the strings are the test.
    ("tests/test_hostile_input.py", "../"),
}


def tracked_text_files():
    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout: no list of tracked files")
    names = subprocess.run(["git", "ls-files", "-z"], cwd=REPO_ROOT, check=True, capture_output=True).stdout
    for name in names.decode().split("\0"):
        path = REPO_ROOT / name
        if name and path.is_file():
            content = path.read_bytes()
            if b"\0" not in content:  # not a picture or other binary
                yield name, content.decode("utf-8", errors="replace")


def test_no_tracked_file_refers_outside_the_repository():
    this_file = Path(__file__).resolve().relative_to(REPO_ROOT).as_posix()
    offenders = [f"{name}:{number}: {line.strip()}"
                 for name, text in tracked_text_files() if name != this_file
                 for number, line in enumerate(text.splitlines(), 1)
                 for reference in OUTSIDE_REFERENCES
                 if reference in line and (name, reference) not in ALLOWED]

    assert offenders == []
