"""`python -m evals.starter --out starter.jsonl`: build the starter suite's repositories and dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evals.starter.build import build_suite
from evals.starter.repos import REPOS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.starter", description=__doc__)
    parser.add_argument("--out", type=Path, required=True, help="the dataset to write (JSONL, one case a line)")
    parser.add_argument("--dir", type=Path, default=Path.home() / ".bgagent" / "starter",
                        help="where the suite's repositories are built (default ~/.bgagent/starter)")
    parser.add_argument("--owner", default="starter", help="the OWNER of the repositories' names (starter)")
    parser.add_argument("--onboard", action="store_true",
                        help="also onboard the repositories on the stack the CLI points at (bgagent repo onboard)")
    args = parser.parse_args(argv)
    root = args.dir.expanduser().resolve()
    cases = build_suite(root, args.owner)
    args.out.write_text("".join(case.model_dump_json(exclude_none=True) + "\n" for case in cases))
    print(f"wrote {len(cases)} cases to {args.out}; repositories in {root}")
    commands = [["repo", "onboard", f"{args.owner}/{name}", "--path", str(root / name)] for name in REPOS]
    if not args.onboard:
        print("onboard them with:\n" + "\n".join("  bgagent " + " ".join(c) for c in commands))
        return 0
    from cli.main import main as bgagent  # only here: building the suite needs no CLI

    return max(bgagent(command) for command in commands)


if __name__ == "__main__":
    sys.exit(main())
