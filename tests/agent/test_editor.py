"""The text editor tool: its commands, and that nothing outside the workspace can be read or written."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from agent.tools.editor import EditorTool


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "node_modules").mkdir()
    (root / "README.md").write_text("line one\nline two\nline three\n")
    (root / "src" / "app.py").write_text("def f():\n    return 1\n\ndef g():\n    return 1\n")
    (root / "src" / "pkg" / "deep.py").write_text("x = 1\n")
    (tmp_path / "secret.txt").write_text("outside\n")
    return root


@pytest.fixture
def editor(repo: Path) -> EditorTool:
    return EditorTool(repo, max_characters=2_000)


async def test_view_a_file_with_line_numbers_and_a_range(editor: EditorTool) -> None:
    full = await editor.run({"command": "view", "path": "README.md"})
    assert not full.is_error
    assert full.text.splitlines()[:2] == ["     1\tline one", "     2\tline two"]
    part = await editor.run({"command": "view", "path": "README.md", "view_range": [2, 3]})
    assert part.text.splitlines() == ["     2\tline two", "     3\tline three"]
    to_end = await editor.run({"command": "view", "path": "README.md", "view_range": [3, -1]})
    assert to_end.text.startswith("     3\tline three")
    bad = await editor.run({"command": "view", "path": "README.md", "view_range": [9, 10]})
    assert bad.is_error


async def test_view_a_directory_two_levels_deep_without_hidden_items(editor: EditorTool) -> None:
    listing = (await editor.run({"command": "view", "path": "."})).text
    assert "src/app.py" in listing and "src/pkg/" in listing and "README.md" in listing
    assert "deep.py" not in listing and ".git" not in listing.splitlines()[1:] and "node_modules" not in \
        listing.splitlines()[1:]


async def test_view_truncates_to_max_characters(repo: Path) -> None:
    (repo / "big.txt").write_text("x" * 5_000)
    result = await EditorTool(repo, max_characters=1_000).run({"command": "view", "path": "big.txt"})
    assert len(result.text) < 1_200 and "truncated" in result.text


async def test_create_str_replace_and_insert(editor: EditorTool, repo: Path) -> None:
    created = await editor.run({"command": "create", "path": "docs/NOTES.md", "file_text": "a\nb\n"})
    assert not created.is_error and (repo / "docs" / "NOTES.md").read_text() == "a\nb\n"
    replaced = await editor.run({"command": "str_replace", "path": "docs/NOTES.md", "old_str": "b", "new_str": "B"})
    assert not replaced.is_error and (repo / "docs" / "NOTES.md").read_text() == "a\nB\n"
    inserted = await editor.run({"command": "insert", "path": "docs/NOTES.md", "insert_line": 1,
                                 "insert_text": "between"})
    assert not inserted.is_error and (repo / "docs" / "NOTES.md").read_text() == "a\nbetween\nB\n"
    at_top = await editor.run({"command": "insert", "path": "docs/NOTES.md", "insert_line": 0, "insert_text": "top"})
    assert not at_top.is_error and (repo / "docs" / "NOTES.md").read_text().startswith("top\na\n")


async def test_str_replace_needs_exactly_one_match(editor: EditorTool, repo: Path) -> None:
    before = (repo / "src" / "app.py").read_text()
    many = await editor.run({"command": "str_replace", "path": "src/app.py", "old_str": "return 1", "new_str": "x"})
    assert many.is_error and "2 times" in many.text and "[2, 5]" in many.text
    none = await editor.run({"command": "str_replace", "path": "src/app.py", "old_str": "nope", "new_str": "x"})
    assert none.is_error
    assert (repo / "src" / "app.py").read_text() == before
    one = await editor.run({"command": "str_replace", "path": "src/app.py", "old_str": "def g():\n    return 1",
                            "new_str": "def g():\n    return 2"})
    assert not one.is_error and "return 2" in (repo / "src" / "app.py").read_text()


@pytest.mark.parametrize("path", ["../secret.txt", "src/../../secret.txt", "/etc/passwd", "escape/secret.txt",
                                  ".git/config", "src/../.git/HEAD"])
async def test_paths_outside_the_workspace_are_refused(editor: EditorTool, repo: Path, path: str) -> None:
    (repo / "escape").symlink_to(repo.parent)
    for call in ({"command": "view", "path": path},
                 {"command": "create", "path": path, "file_text": "pwned"}):
        result = await editor.run(call)
        assert result.is_error, (call, result.text)
    assert (repo.parent / "secret.txt").read_text() == "outside\n"


async def test_absolute_paths_inside_the_workspace_work(editor: EditorTool, repo: Path) -> None:
    result = await editor.run({"command": "view", "path": str(repo / "README.md")})
    assert not result.is_error and "line one" in result.text


async def test_unknown_commands_and_missing_arguments_are_errors(editor: EditorTool) -> None:
    for call in ({"command": "undo_edit", "path": "README.md"}, {"command": "view"},
                 {"command": "create", "path": "x.txt"}, {"command": "insert", "path": "README.md"},
                 {"command": "view", "path": "missing.txt"}, {"command": "create", "path": "src", "file_text": ""}):
        assert (await editor.run(call)).is_error, call


async def test_no_link_leads_out_whatever_its_shape(editor: EditorTool, repo: Path) -> None:
    secret = repo.parent / "secret.txt"
    (repo / "direct").symlink_to(secret)
    (repo / "src" / "chain").symlink_to("../direct")
    (repo / "dangling").symlink_to(repo.parent / "created-by-the-editor.txt")
    (repo / "hard").hardlink_to(secret)
    for path, command in (("direct", "view"), ("src/chain", "view"), ("hard", "view"),
                          ("dangling", "create"), ("direct", "str_replace")):
        result = await editor.run({"command": command, "path": path, "file_text": "x", "old_str": "outside",
                                   "new_str": "changed"})
        assert result.is_error, (path, command)
        assert "outside\n" not in result.text
    assert secret.read_text() == "outside\n" and not (repo.parent / "created-by-the-editor.txt").exists()


async def test_a_link_inside_the_workspace_still_works(editor: EditorTool, repo: Path) -> None:
    (repo / "readme-link").symlink_to("README.md")
    assert "line one" in (await editor.run({"command": "view", "path": "readme-link"})).text


_HUGE_FILE_RUN = """
import asyncio, json, sys
from pathlib import Path
from agent.tools.editor import EditorTool

def peak_kb():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1])

async def main(repo):
    editor = EditorTool(Path(repo), max_characters=2_000)
    before = peak_kb()
    calls = {"head": {"command": "view", "path": "huge.txt"},
             "range": {"command": "view", "path": "huge.txt", "view_range": [2, 3]},
             "past_the_hole": {"command": "view", "path": "huge.txt", "view_range": [1_999, 2_000]},
             "replace": {"command": "str_replace", "path": "huge.txt", "old_str": "line 7", "new_str": "x"},
             "insert": {"command": "insert", "path": "huge.txt", "insert_line": 1, "insert_text": "x"}}
    results = {name: (await editor.run(call)).__dict__ for name, call in calls.items()}
    print(json.dumps({"grew_mb": (peak_kb() - before) / 1024, "results": results}))

asyncio.run(main(sys.argv[1]))
"""


async def test_a_huge_sparse_file_costs_the_runtime_no_more_than_a_window(repo: Path) -> None:
    huge = repo / "huge.txt"
    with huge.open("w") as handle:
        handle.writelines(f"line {n}\n" for n in range(1, 2_000))  # 16 KB of text, then a 400 MB hole
    os.truncate(huge, 400 << 20)
    done = subprocess.run([sys.executable, "-c", _HUGE_FILE_RUN, str(repo)], capture_output=True, text=True,
                          timeout=60, check=True)
    report = json.loads(done.stdout)
    results = report["results"]
    assert report["grew_mb"] < 64, report["grew_mb"]
    head = results["head"]
    assert not head["is_error"] and head["text"].startswith("     1\tline 1\n")
    assert "the file is 419,430,400 bytes" in head["text"] and "use view_range" in head["text"]
    assert results["range"]["text"].splitlines() == ["     2\tline 2", "     3\tline 3"]
    assert results["past_the_hole"]["text"].splitlines()[0] == "  1999\tline 1999"
    assert "line truncated" in results["past_the_hole"]["text"]
    for name in ("replace", "insert"):
        assert results[name]["is_error"] and "BGAGENT_EDITOR_MAX_FILE_MB" in results[name]["text"], name
    assert huge.stat().st_size == 400 << 20


async def test_edits_refuse_a_file_over_the_limit_and_leave_it_alone(repo: Path) -> None:
    big = repo / "big.py"
    big.write_text("x = 1\n" * 400)
    editor = EditorTool(repo, max_characters=2_000, max_file_bytes=1_000)
    result = await editor.run({"command": "str_replace", "path": "big.py", "old_str": "x = 1\nx", "new_str": "y"})
    assert result.is_error and "2,400 bytes" in result.text and "1,000 bytes" in result.text
    assert big.read_text() == "x = 1\n" * 400
    small = await editor.run({"command": "str_replace", "path": "README.md", "old_str": "one", "new_str": "1"})
    assert not small.is_error and "line 1" in small.text


async def test_a_fifo_is_refused_at_once_and_the_event_loop_never_stops(repo: Path) -> None:
    fifo = repo / "pipe"
    os.mkfifo(fifo)
    # The old editor blocked in open() until a reader came: this one comes after 30 s (a ceiling, not a
    # window: a busy machine stays far below it), so that such an editor ends the test (failing it) instead
    # of hanging it.
    rescued = threading.Event()

    def rescue_it() -> None:
        os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
        rescued.set()

    rescue = threading.Timer(30.0, rescue_it)
    rescue.start()
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.05)

    ticking = asyncio.create_task(ticker())
    editor = EditorTool(repo, max_characters=2_000)
    try:
        for call in ({"command": "create", "path": "pipe", "file_text": "pwned"},
                     {"command": "view", "path": "pipe"},
                     {"command": "view", "path": "pipe", "view_range": [1, 2]},
                     {"command": "str_replace", "path": "pipe", "old_str": "a", "new_str": "b"},
                     {"command": "insert", "path": "pipe", "insert_line": 0, "insert_text": "x"}):
            result = await asyncio.wait_for(editor.run(call), 60)
            assert result.is_error and "not a regular file" in result.text, (call, result.text)
            assert not rescued.is_set(), call  # refused at once: a blocked open() returns only after the rescue
    finally:
        rescue.cancel()
        ticking.cancel()
    gaps = [later - earlier for earlier, later in itertools.pairwise(ticks)]
    assert ticks and max(gaps, default=0) < 10.0  # a blocked loop would stall until the rescue
