"""The embedded stack's AWS emulator: moto's server, with DynamoDB made atomic under concurrency.

moto serves requests on many threads, but its TransactWriteItems snapshots whole tables and, when
a condition fails, restores the snapshot, erasing writes other threads made meanwhile, and its
condition checks race with concurrent writes. Real DynamoDB serialises writes per item; here one
lock around the DynamoDB backend gives the same guarantees (the platform's correctness rests on them).
The snapshot is also a deep copy of every table the transaction touches, so a transaction costs
O(table size) (73 ms at 3,000 items): under the lock, conditions are checked first and only the
touched items are backed up, which keeps a transaction O(items in it).

With --data-dir its tables, objects and secrets survive restarts (cli.local.persistence).

    python -m cli.local.emulator -H 127.0.0.1 -p 4599 [--data-dir DIR] [--log-requests]
"""

from __future__ import annotations

import argparse
import copy
import functools
import inspect
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any


def _transact_write_items(self, transact_items: list[dict[str, Any]]) -> None:
    """All-or-nothing writes: check every condition, then write, restoring touched items on failure."""
    from moto.dynamodb.exceptions import TooManyTransactionsException, TransactionCanceledException

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    planned, errors = _checked(self, transact_items)
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    _apply(self, planned)


def _checked(backend: Any, transact_items: list[dict[str, Any]]) -> tuple[list[Any], list[tuple[Any, Any, Any]]]:
    """Each operation with its key and the item as it was, and each one's cancellation reason (or Nones)."""
    from moto.dynamodb.exceptions import MultipleTransactionsException, TransactWriteSingleOpException

    planned: list[Any] = []
    seen: set[tuple[str, str]] = set()
    errors: list[tuple[str | None, str | None, Any]] = []
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
            raise ValueError("Unsupported transaction operation")
        key = _key(backend.get_table(op["TableName"]), op_type, op)
        identity = (op["TableName"], str(sorted(key.items())))
        if identity in seen:
            raise MultipleTransactionsException()
        seen.add(identity)
        current = backend.get_item(op["TableName"], key)
        errors.append(_reason(op, current))
        planned.append((op_type, op, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None))
    return planned, errors


def _key(table: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return op["Key"]
    key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = op["Item"][table.range_key_attr]
    return key


def _reason(op: dict[str, Any], current: Any) -> tuple[str | None, str | None, Any]:
    """Why this operation cancels the transaction, as moto reports it; Nones when its condition holds."""
    from moto.dynamodb.comparisons import get_filter_expression

    condition = op.get("ConditionExpression")
    if condition is None or get_filter_expression(
            condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")).expr(current):
        return None, None, None
    old = current.to_json()["Attributes"] if current and op.get(
        "ReturnValuesOnConditionCheckFailure") == "ALL_OLD" else None
    return "ConditionalCheckFailed", "The conditional request failed", old


def _apply(backend: Any, planned: list[Any]) -> None:
    """Write every operation; on a failure, put back the items already written as they were."""
    applied = []
    try:
        for op_type, op, key, before in planned:
            names, vals = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            if op_type == "Put":
                backend.put_item(op["TableName"], op["Item"])
            elif op_type == "Delete":
                backend.delete_item(op["TableName"], key)
            elif op_type == "Update":
                backend.update_item(op["TableName"], key, update_expression=op["UpdateExpression"],
                                    expression_attribute_names=names, expression_attribute_values=vals)
            applied.append((op["TableName"], key, before))
    except Exception:
        for table_name, key, before in reversed(applied):
            if before is None:
                backend.delete_item(table_name, key)
            else:
                backend.put_item(table_name, before)
        raise


_LOCK = threading.RLock()


def make_dynamodb_atomic() -> threading.RLock:
    """Serialise every public DynamoDB backend call of this process; transactions cost O(their items)."""
    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, "_bgagent_atomic", False):
        return _LOCK
    setattr(DynamoDBBackend, "transact_write_items", _transact_write_items)  # noqa: B010  moto patched on purpose
    lock = _LOCK

    def locked(method):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            with lock:
                return method(*args, **kwargs)
        return wrapper

    for name, member in inspect.getmembers(DynamoDBBackend, inspect.isfunction):
        if not name.startswith("_"):
            setattr(DynamoDBBackend, name, locked(member))
    setattr(DynamoDBBackend, "_bgagent_atomic", True)  # noqa: B010  a marker on moto's class
    return lock


def remember_routing() -> None:
    """Memoise two per-request costs of moto's server whose answers never change while it runs.

    Finding a request's backend lists moto's package directory and tries some 300 URL patterns, under
    the dispatcher's one lock; an EventBridge input transformer compiles its JSONPath expressions (a
    PLY parser) for every event. Together they were a fifth of the emulator's CPU per task.
    """
    import jsonpath_ng.ext
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    if getattr(DomainDispatcherApplication, "_bgagent_remembers", False):
        return
    find_backend = DomainDispatcherApplication.get_backend_for_host
    backends: dict[str | None, Any] = {}

    def get_backend_for_host(self, host):
        if host not in backends:
            backends[host] = find_backend(self, host)
        return backends[host]

    setattr(DomainDispatcherApplication, "get_backend_for_host", get_backend_for_host)  # noqa: B010
    setattr(DomainDispatcherApplication, "_bgagent_remembers", True)  # noqa: B010
    jsonpath_ng.ext.parse = functools.lru_cache(maxsize=1024)(jsonpath_ng.ext.parse)  # moto imports it per call


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(0)  # unwinds moto's serving loop so the last snapshot is written


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--data-dir", type=Path)
    p.add_argument("--snapshot-interval", type=float, default=1.0)
    p.add_argument("--log-requests", action="store_true", help="log a line per request (a fifth of its CPU)")
    ours, moto_args = p.parse_known_args(argv if argv is not None else sys.argv[1:])
    if not ours.log_requests:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    lock = make_dynamodb_atomic()
    remember_routing()
    from cli.local.authorization import enforce_like_aws

    enforce_like_aws()  # dormant until IAM enforcement is switched on (`bgagent local up --iam enforce`)
    from moto.server import main as moto_main

    if ours.data_dir is None:
        moto_main(moto_args)
        return
    from cli.local.persistence import Snapshots

    snapshots = Snapshots(ours.data_dir, interval=ours.snapshot_interval, dynamodb_lock=lock)
    snapshots.restore()
    snapshots.start()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_on_signal)
    try:
        moto_main(moto_args)
    finally:
        snapshots.stop()


if __name__ == "__main__":
    main()
