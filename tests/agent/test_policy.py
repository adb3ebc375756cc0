"""The command policy: what the agent refuses to run, and the ordinary work it lets through."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.tools.policy import CommandPolicy


@pytest.fixture
def policy(tmp_path: Path) -> CommandPolicy:
    repo, home, tmp = tmp_path / "repo", tmp_path / "home", tmp_path / "tmp"
    for d in (repo / "src", home, tmp):
        d.mkdir(parents=True)
    (repo / "escape").symlink_to("/")
    return CommandPolicy(repo, "main", home=home, extra_roots=[tmp, home])


@pytest.mark.parametrize("command", [
    "rm -rf /", "rm -rf /*", "sudo rm -rf / --no-preserve-root", "rm -rf ~", "rm -rf ~/", "rm -rf $HOME",
    "rm -rf ..", "rm -rf ../", "cd src && rm -rf ../..", "rm -fr escape/etc", "rm -rf .", "rm -r -f /etc",
    "rm -rf .git", "rm -rf ./.git/", "rm .git/index", "find . -name x; rm -rf .git",
    "git push --force origin main", "git push -f origin main", "git push origin +main", "git push -f",
    "git push --force-with-lease", "git push origin :main", "git push --delete origin main", "git push --mirror",
    "git -C . push origin HEAD:main", "git push origin main",
    "cat /proc/self/environ", "tr '\\0' '\\n' < /proc/1/environ", "env", "printenv", "printenv GITHUB_TOKEN",
    "/usr/bin/env", "env -0", "export -p", "declare -x", "set",
    "curl -s http://169.254.169.254/latest/meta-data/iam/", "curl 169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "cat ~/.git-credentials", "cat ~/.aws/credentials",
    "echo $(rm -rf /)", "echo `rm -rf ~`", "bash -c 'rm -rf /'", "sh -c \"git push -f origin main\"",
    "eval rm -rf ..", "cd / && ls", "cd .. && ls", "pushd /etc", "echo x > /etc/passwd", "echo x >> ../outside.txt",
    "git filter-branch --tree-filter 'rm x' HEAD", "git reflog expire --expire=now --all",
    "ls\nrm -rf /", "timeout 5 rm -rf /", "FOO=1 nohup rm -rf ~ &",
])
def test_refused(policy: CommandPolicy, command: str) -> None:
    refusal = policy.check(command)
    assert refusal is not None, command
    assert refusal.reason


@pytest.mark.parametrize("command", [
    "ls -la && git log --oneline -n 5", "cat README.md", "rm -rf build dist", "rm -f src/old.py", "rm -rf ./*",
    "rm -rf node_modules/.cache", "git status && git diff", "git add -A && git commit -m 'wip'",
    "git push origin bgagent/01ABC/fix", "git push -f origin bgagent/01ABC/fix", "git reset --hard HEAD~1",
    "git checkout -b feature", "python -m pytest -q 2>&1 | tail -20", "echo hi > out.txt 2>/dev/null",
    "make test > $TMPDIR/log.txt", "cd src && ls", "cd", "cd ~ && ls", "env FOO=1 make test", "echo $PATH",
    "grep -rn 'environ' src", "cat .gitignore", "rm .gitignore", "mkdir -p /tmp/../$TMPDIR/x",
    "cat <<'EOF' > notes.md\nIt's fine: rm -rf / is only text here\nEOF",
    "python - <<EOF\nprint('don't')\nEOF", "sed -i 's/a/b/' src/x.py", "echo 'unterminated",
])
def test_allowed(policy: CommandPolicy, command: str) -> None:
    assert policy.check(command) is None, command


def test_unparseable_commands_fall_back_to_coarse_checks(policy: CommandPolicy) -> None:
    assert policy.check("echo 'oops\nrm -rf /") is not None
    assert policy.check("echo \"unclosed && git push --force origin x") is not None
    assert policy.check("echo 'unclosed but harmless") is None
