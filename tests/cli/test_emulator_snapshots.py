"""The emulator's snapshots: what one moto process saved, a fresh one restores (tables, objects, secrets)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from cli.local.persistence import SNAPSHOT_FILE
from cli.local.stack import free_port, wait_until_up

KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


def _emulator(port: int, data: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "cli.local.emulator", "-H", "127.0.0.1", "-p", str(port),
                             "--data-dir", str(data), "--snapshot-interval", "0.2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    wait_until_up(f"http://127.0.0.1:{port}/moto-api/", 30, proc)
    return proc


def _write(endpoint: str) -> None:
    ddb, s3, sm = (boto3.client(s, endpoint_url=endpoint, **KEYS) for s in ("dynamodb", "s3", "secretsmanager"))
    ddb.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "g")],
                     GlobalSecondaryIndexes=[{"IndexName": "by-g",
                                              "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                              "Projection": {"ProjectionType": "ALL"}}])
    ddb.update_time_to_live(TableName="t", TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    ddb.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "g": {"S": "x"}, "n": {"N": "3"},
                                      "m": {"M": {"l": {"L": [{"S": "v"}]}}}, "b": {"B": b"\x00\x01"}})
    ddb.update_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "1"}}, UpdateExpression="ADD n :one",
                    ExpressionAttributeValues={":one": {"N": "1"}})
    s3.create_bucket(Bucket="artifacts")
    s3.put_object(Bucket="artifacts", Key="contexts/t.json", Body=b"\x00{}")
    sm.create_secret(Name="kept", SecretString="s3cret")
    sm.create_secret(Name="gone", SecretString="x")
    sm.delete_secret(SecretId="gone", ForceDeleteWithoutRecovery=True)


def _read(endpoint: str) -> dict:
    ddb, s3, sm = (boto3.client(s, endpoint_url=endpoint, **KEYS) for s in ("dynamodb", "s3", "secretsmanager"))
    return {
        "item": ddb.get_item(TableName="t", Key={"pk": {"S": "a"}, "sk": {"S": "1"}})["Item"],
        "by_index": ddb.query(TableName="t", IndexName="by-g", KeyConditionExpression="g = :g",
                              ExpressionAttributeValues={":g": {"S": "x"}})["Count"],
        "ttl": ddb.describe_time_to_live(TableName="t")["TimeToLiveDescription"].get("AttributeName"),
        "object": s3.get_object(Bucket="artifacts", Key="contexts/t.json")["Body"].read(),
        "secrets": sorted(s["Name"] for s in sm.list_secrets()["SecretList"]),
        "secret": sm.get_secret_value(SecretId="kept")["SecretString"],
    }


@pytest.mark.parametrize("stop", ["sigterm", "sigkill"])
def test_a_restarted_emulator_has_what_the_last_one_held(tmp_path: Path, stop: str):
    port, data = free_port(), tmp_path / "data"
    first = _emulator(port, data)
    try:
        _write(f"http://127.0.0.1:{port}")
        before = _read(f"http://127.0.0.1:{port}")
        if stop == "sigkill":
            time.sleep(1)  # a few snapshot intervals: what a kill -9 may lose
            first.kill()
        else:
            first.terminate()  # the last snapshot is written on the way out
        first.wait(30)
    finally:
        first.kill()
    assert (data / SNAPSHOT_FILE).stat().st_mode & 0o777 == 0o600  # it holds secret values
    second = _emulator(port, data)
    try:
        after = _read(f"http://127.0.0.1:{port}")
    finally:
        second.terminate()
        second.wait(30)
    assert after == before
    assert after["item"]["n"] == {"N": "4"} and after["item"]["b"] == {"B": b"\x00\x01"}
    assert after["by_index"] == 1 and after["ttl"] == "exp" and after["secrets"] == ["kept"]


def test_a_snapshot_of_another_format_is_refused_not_half_loaded(tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    (data / SNAPSHOT_FILE).write_text(json.dumps({"version": 999}))
    proc = subprocess.run([sys.executable, "-m", "cli.local.emulator", "-H", "127.0.0.1", "-p", str(free_port()),
                           "--data-dir", str(data)], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "bgagent local reset" in proc.stderr
