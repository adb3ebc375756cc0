"""The emulator's durable state: DynamoDB tables, S3 objects and secrets saved to a data directory, restored on start.

moto keeps everything in memory. The emulator process counts the calls that change its DynamoDB,
S3 and Secrets Manager backends; a thread writes a snapshot of their contents (not of the process:
table definitions and items, objects, secret values) at most every `interval` seconds when something
changed, and once more at shutdown. Each snapshot replaces the previous one atomically, so a
`kill -9` loses at most the last interval (longer for a large store: saving never takes more than a
third of the time).
"""

from __future__ import annotations

import base64
import functools
import inspect
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
SNAPSHOT_FILE = "emulator-state.json"
SNAPSHOT_VERSION = 1
_READS = ("get", "describe", "list", "query", "scan", "batch_get", "head", "transact_get", "_")


class ChangeCounter:
    """How many state-changing backend calls this process has served."""

    def __init__(self) -> None:
        self.value = 0

    def watch(self, backend_class: type) -> None:
        """Count every public method of `backend_class` that is not a read."""
        if getattr(backend_class, "_bgagent_counted", False):
            return
        for name, member in inspect.getmembers(backend_class, inspect.isfunction):
            if not name.startswith(_READS):
                setattr(backend_class, name, self._counted(member))
        setattr(backend_class, "_bgagent_counted", True)  # noqa: B010  a marker on moto's class

    def _counted(self, method):
        @functools.wraps(method)
        def wrapper(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            finally:
                self.value += 1
        return wrapper


def _encode_bytes(value: Any) -> dict:
    if isinstance(value, (bytes, bytearray)):  # DynamoDB binary attributes
        return {"$b64": base64.b64encode(value).decode()}
    raise TypeError(f"cannot save a {type(value).__name__}")


def _decode_bytes(obj: dict) -> Any:
    return base64.b64decode(obj["$b64"]) if obj.keys() == {"$b64"} else obj


def _regional(backends) -> list[tuple[str, str, Any]]:
    """(account, region, backend) for every backend moto has created so far."""
    return [(account, region, backend) for account, regions in list(backends.items())
            for region, backend in list(regions.items())]


def _dump_tables(dynamodb_backends) -> list[dict]:
    tables = []
    for account, region, backend in _regional(dynamodb_backends):
        for table in list(backend.tables.values()):
            desc = table.describe(base_key="Table")["Table"]
            tables.append({"account": account, "region": region, "name": table.name,
                           "schema": desc["KeySchema"], "attr": desc["AttributeDefinitions"],
                           "global_indexes": [_index(i) for i in desc.get("GlobalSecondaryIndexes", [])],
                           "indexes": [_index(i) for i in desc.get("LocalSecondaryIndexes", [])],
                           "ttl": table.ttl, "items": [i.to_json()["Attributes"] for i in table.all_items()]})
    return tables


def _index(desc: dict) -> dict:
    return {"IndexName": desc["IndexName"], "KeySchema": desc["KeySchema"], "Projection": desc["Projection"]}


def _dump_buckets(s3_backends) -> list[dict]:
    buckets = []
    for account, _region, backend in _regional(s3_backends):
        for bucket in list(backend.buckets.values()):
            objects = {key.name: base64.b64encode(key.value).decode() for key in list(bucket.keys.values())
                       if not getattr(key, "is_delete_marker", False)}
            buckets.append({"account": account, "region": bucket.region_name, "name": bucket.name,
                            "objects": objects})
    return buckets


def _dump_secrets(secrets_backends) -> list[dict]:
    secrets = []
    for account, region, backend in _regional(secrets_backends):
        for secret in list(backend.secrets.values()):
            if secret.is_deleted() or secret.secret_string is None:
                continue
            secrets.append({"account": account, "region": region, "name": secret.name,
                            "value": secret.secret_string, "description": secret.description})
    return secrets


def _restore_tables(dynamodb_backends, tables: list[dict]) -> None:
    for t in tables:
        backend = dynamodb_backends[t["account"]][t["region"]]
        table = backend.create_table(t["name"], schema=t["schema"], throughput=None, attr=t["attr"],
                                     global_indexes=t["global_indexes"] or None, indexes=t["indexes"] or None,
                                     streams=None, billing_mode="PAY_PER_REQUEST", sse_specification=None, tags=[],
                                     deletion_protection_enabled=False, warm_throughput=None)
        table.ttl = t["ttl"]
        for item in t["items"]:
            backend.put_item(t["name"], item)


def _restore_buckets(s3_backends, buckets: list[dict]) -> None:
    for b in buckets:
        backend = s3_backends[b["account"]]["global"]
        backend.create_bucket(b["name"], b["region"])
        for key, value in b["objects"].items():
            backend.put_object(b["name"], key, base64.b64decode(value))


def _restore_secrets(secrets_backends, secrets: list[dict]) -> None:
    for s in secrets:
        secrets_backends[s["account"]][s["region"]].create_secret(
            s["name"], s["value"], None, s["description"], None, None, None, [], False)


class Snapshots:
    """Saves and restores the emulator's DynamoDB, S3 and Secrets Manager contents in `data_dir`."""

    def __init__(self, data_dir: Path, *, interval: float = 1.0, dynamodb_lock: Any = None):
        from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
        from moto.s3.models import S3Backend, s3_backends
        from moto.secretsmanager.models import SecretsManagerBackend, secretsmanager_backends

        self.path = data_dir / SNAPSHOT_FILE
        self._interval = interval
        self._lock = dynamodb_lock or threading.RLock()
        self._backends = dynamodb_backends, s3_backends, secretsmanager_backends
        self.changes = ChangeCounter()
        for backend_class in (DynamoDBBackend, S3Backend, SecretsManagerBackend):
            self.changes.watch(backend_class)
        self._saved_at = 0
        self._stop = threading.Event()
        self._save_lock = threading.Lock()

    def restore(self) -> bool:
        """Load the last snapshot into the backends; whether there was one."""
        try:
            state = json.loads(self.path.read_text(), object_hook=_decode_bytes)
        except FileNotFoundError:
            return False
        if state.get("version") != SNAPSHOT_VERSION:
            raise RuntimeError(f"{self.path} was written by another version of bgagent (bgagent local reset)")
        dynamodb, s3, secrets = self._backends
        _restore_tables(dynamodb, state["tables"])
        _restore_buckets(s3, state["buckets"])
        _restore_secrets(secrets, state["secrets"])
        self._saved_at = self.changes.value
        return True

    def save(self) -> None:
        """Write the backends' contents if they changed since the last save; atomic on POSIX."""
        with self._save_lock:
            seen = self.changes.value
            if seen == self._saved_at:
                return
            dynamodb, s3, secrets = self._backends
            with self._lock:  # a consistent cut of the tables: no write lands half-way through
                tables = _dump_tables(dynamodb)
            state = {"version": SNAPSHOT_VERSION, "tables": tables, "buckets": _dump_buckets(s3),
                     "secrets": _dump_secrets(secrets)}
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)  # it holds secret values
            with os.fdopen(fd, "w") as f:
                json.dump(state, f, default=_encode_bytes)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
            self._saved_at = seen

    def start(self) -> None:
        """Save in the background every `interval` seconds while something changes."""
        def loop() -> None:
            wait = self._interval
            while not self._stop.wait(wait):
                started = time.monotonic()
                try:
                    self.save()
                except Exception:  # keep saving: the next tick may succeed, and the log says why this one did not
                    log.exception("could not save the emulator's state to %s", self.path)
                # A large store takes long to dump, under the DynamoDB lock for its tables: never spend more
                # than a third of the time saving (10,000 items: about a second to dump).
                wait = max(self._interval, 2 * (time.monotonic() - started))

        threading.Thread(target=loop, name="snapshots", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
        self.save()
