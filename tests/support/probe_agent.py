"""A stand-in agent that reports what it can see of earlier sessions, then leaves traces for later ones.

It writes `<PROBE_DIR>/<task_id>.json` with its pids, the PROBE_* environment, the module state it
found, its open file descriptors and its working directory; then it sets an environment variable,
records itself in module state, leaves a file descriptor open and a module imported, and changes
directory — all things a reused worker would hand to the next task.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

LEFT_BY: list[str] = []  # module state: a reused interpreter would still hold earlier tasks here
_KEEP: list[object] = []


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task-id", required=True)
    task_id = parser.parse_args().task_id
    out = Path(os.environ["PROBE_DIR"])
    seen = {
        "pid": os.getpid(), "ppid": os.getppid(),
        "env": {k: v for k, v in os.environ.items() if k.startswith("PROBE_LEFT")},
        "task_env": os.environ.get("BGAGENT_TASK_ID"),
        "left_by": list(LEFT_BY),
        "fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd")),
        "cwd": os.getcwd(),
        "modules": sorted(m for m in sys.modules if m.startswith("tests.support.probe_trace")),
    }
    (out / f"{task_id}.json").write_text(json.dumps(seen))
    os.environ[f"PROBE_LEFT_{task_id}"] = "secret-of-" + task_id
    LEFT_BY.append(task_id)
    _KEEP.append(open(out / f"{task_id}.fd", "w"))  # noqa: SIM115 - left open on purpose
    sys.modules[f"tests.support.probe_trace_{task_id}"] = sys.modules[__name__]
    os.chdir(tempfile.mkdtemp(prefix=f"probe-{task_id}-"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
