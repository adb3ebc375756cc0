"""What the bwrap command line shows a command, and who it runs as."""

from __future__ import annotations

from pathlib import Path

from agent.sandbox.bwrap import EGRESS_SOCKET, build_etc, bwrap_argv
from agent.sandbox.limits import task_uid
from agent.sandbox.protocol import SandboxLimits, SandboxPaths

PATHS = SandboxPaths(Path("/w/t/repo"), Path("/w/t/home"), Path("/w/t/tmp"))


def _binds(argv: list[str]) -> dict[str, str]:
    """Each mount destination and how it is bound."""
    kinds = ("--bind", "--ro-bind", "--ro-bind-try")
    return {argv[i + 2]: kind for i, kind in enumerate(argv[:-2]) if kind in kinds}


def test_only_the_clone_and_home_are_writable_and_no_credential_file_is_shown(tmp_path: Path) -> None:
    etc = build_etc(tmp_path / "etc")
    argv = bwrap_argv(PATHS, etc=etc, readonly=["/srv/toolchain"], limits=SandboxLimits(), drop_to=None, egress=None)
    binds = _binds(argv)
    assert {d for d, how in binds.items() if how == "--bind"} == {"/w/t/repo", "/w/t/home"}
    assert binds["/srv/toolchain"] == "--ro-bind-try"
    assert not any(d.startswith(("/root", "/home", "/proc/", "/var/run")) for d in binds)
    assert binds["/etc"] == "--ro-bind" and argv[argv.index("/etc") - 1] == str(etc)  # the task's copy
    assert not any(d.startswith(("/etc/shadow", "/etc/gshadow", "/etc/sudoers", "/etc/ssh")) for d in binds)
    assert "/w/t/tmp" not in binds and "/w/t" not in binds  # the rest of the workspace root stays hidden
    assert {"--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session"} <= set(argv)
    assert argv[-1] == "--" and argv[argv.index("--chdir") + 1] == "/w/t/repo"


def test_as_root_the_command_drops_to_its_own_uid_without_capabilities(tmp_path: Path) -> None:
    argv = bwrap_argv(PATHS, etc=build_etc(tmp_path / "etc"), readonly=[], limits=SandboxLimits(), drop_to=201_234,
                      egress=Path("/e/egress.sock"), forwarder=Path("/e/forward.py"))
    tail = argv[argv.index("--") + 1:]
    assert tail[0] == "setpriv" and "--reuid=201234" in tail and "--inh-caps=-all" in tail
    assert "--no-new-privs" in tail and "--unshare-user" not in argv and "--unshare-net" in argv
    assert _binds(argv)[EGRESS_SOCKET] == "--bind"


def test_each_task_gets_a_stable_unprivileged_uid() -> None:
    first, other = task_uid("01TASKA", 200_000), task_uid("01TASKB", 200_000)
    assert first == task_uid("01TASKA", 200_000) and first != other
    assert all(200_000 <= uid < 250_000 for uid in (first, other))


def test_the_etc_copy_holds_what_toolchains_read_and_no_credential(tmp_path: Path) -> None:
    etc = build_etc(tmp_path / "etc")
    names = {p.name for p in etc.iterdir()}
    assert {"passwd", "group", "hosts", "nsswitch.conf"} <= names
    assert not names & {"shadow", "gshadow", "sudoers", "ssh", "ssl-private"}
    assert all(not any(p.iterdir()) for p in etc.iterdir() if p.is_dir())  # mount points for the real dirs
