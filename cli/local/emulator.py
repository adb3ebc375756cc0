"""The embedded stack's AWS emulator: moto's server, with DynamoDB made atomic under concurrency.

moto serves requests on many threads, but its TransactWriteItems snapshots whole tables and, when
a condition fails, restores the snapshot, erasing writes other threads made meanwhile, and its
condition checks race with concurrent writes. Real DynamoDB serialises writes per item; here one
lock around the DynamoDB backend gives the same guarantees (the platform's correctness rests on them).

    python -m cli.local.emulator -H 127.0.0.1 -p 4599
"""

from __future__ import annotations

import functools
import inspect
import sys
import threading


def make_dynamodb_atomic() -> None:
    """Serialise every public DynamoDB backend call of this process."""
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, "_bgagent_atomic", False):
        return
    lock = threading.RLock()

    def locked(method):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            with lock:
                return method(*args, **kwargs)
        return wrapper

    for name, member in inspect.getmembers(DynamoDBBackend, inspect.isfunction):
        if not name.startswith("_"):
            setattr(DynamoDBBackend, name, locked(member))
    DynamoDBBackend._bgagent_atomic = True


def main(argv: list[str] | None = None) -> None:
    make_dynamodb_atomic()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
