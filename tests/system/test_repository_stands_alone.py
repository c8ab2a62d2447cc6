"""A clone of this repository is complete: no tracked file links or refers to a path above it, or
names a document that is not in it."""
import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath

import pytest
from servers import REPO_ROOT

PARENT_PATH = re.compile(r"\.\.[/\\]")
MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+)")
DOCUMENT_NAME = re.compile(r"[\w.-]+\.md\b")
# Path traversal attempts that the API must refuse: the strings are the test.
MAY_CLIMB = {"tests/api/test_hostile_input.py"}


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


def lines_of(files):
    return [(name, number, line) for name, text in files for number, line in enumerate(text.splitlines(), 1)]


def test_no_tracked_file_refers_to_a_path_above_the_repository():
    offenders = [f"{name}:{number}: {line.strip()}" for name, number, line in lines_of(tracked_text_files())
                 if PARENT_PATH.search(line) and name not in MAY_CLIMB]

    assert offenders == []


def test_every_link_of_the_documentation_reaches_a_file_in_the_repository():
    offenders = []
    for name, number, line in lines_of((name, text) for name, text in tracked_text_files() if name.endswith(".md")):
        for target in MARKDOWN_LINK.findall(line):
            if re.match(r"[a-z]+:", target):  # http(s), mailto: outside on purpose
                continue
            resolved = (REPO_ROOT / PurePosixPath(name).parent / target).resolve()
            if not resolved.is_relative_to(REPO_ROOT) or not resolved.exists():
                offenders.append(f"{name}:{number}: {target}")

    assert offenders == []


def test_every_document_named_is_in_the_repository():
    files = list(tracked_text_files())
    documents = {Path(name).name for name, _ in files if name.endswith(".md")}
    offenders = [f"{name}:{number}: {document}" for name, number, line in lines_of(files)
                 for document in DOCUMENT_NAME.findall(line) if Path(document).name not in documents]

    assert offenders == []
