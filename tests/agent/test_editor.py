"""The text editor tool: its commands, and that nothing outside the workspace can be read or written."""

from __future__ import annotations

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
