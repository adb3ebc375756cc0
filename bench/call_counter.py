"""Count the AWS calls of this process with botocore hooks, the file of counts kept current after each call.

Written as they change, not at exit: an agent forked from the warm zygote ends with os._exit.

bench/aws_calls.py loads it into every process of the stack through bench/counting/sitecustomize.py.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

LOG_DIR = "BGAGENT_AWS_CALL_LOG_DIR"
_calls: Counter[str] = Counter()


def _write() -> None:
    out = Path(os.environ[LOG_DIR]) / f"{os.getpid()}.json"
    out.write_text(json.dumps({"argv": sys.argv, "calls": dict(_calls)}))


def _count(model: Any, **_: Any) -> None:
    _calls[f"{model.service_model.service_name}.{model.name}"] += 1
    _write()


def _count_items(params: dict, **_: Any) -> None:
    _calls["dynamodb.TransactWriteItems.items"] += len(params.get("TransactItems", []))


def install() -> None:
    """Hook every aiobotocore session this process opens (when BGAGENT_AWS_CALL_LOG_DIR names a directory)."""
    if not os.environ.get(LOG_DIR):
        return
    from aiobotocore.session import AioSession

    opened = AioSession.__init__

    def counting_init(self: AioSession, *args: Any, **kwargs: Any) -> None:
        opened(self, *args, **kwargs)
        self.register("before-call", _count)
        self.register("before-parameter-build.dynamodb.TransactWriteItems", _count_items)

    AioSession.__init__ = counting_init  # type: ignore[method-assign]
    os.register_at_fork(after_in_child=_calls.clear)  # a forked worker counts its own calls only
