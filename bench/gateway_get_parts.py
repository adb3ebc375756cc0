"""Where a gateway read spends its CPU, part by part, measured in process (CPU time, so load-insensitive).

    .venv/bin/python -m bench.gateway_get_parts [--calls 500]

Parts: the bearer token's verification alone; the whole app answering `GET /v1/tasks/{id}` from an
in-memory store (routing, dependencies, JWT, middlewares, serialization; no HTTP server, no DynamoDB);
and one consistent GetItem to the emulator through aiobotocore (the gateway's client) and through boto3
(the benchmark's), counting only this process's CPU, not the emulator's.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Awaitable, Callable

from aiobotocore.session import get_session

from bench.common import machine
from shared.auth.local_issuer import LocalIssuer
from shared.tasks.models import Task
from tests.gateway.conftest import build_gateway
from tests.support.aws import make_stack, moto_server, set_test_credentials


async def _cpu_ms(call: Callable[[], Awaitable[object]], calls: int) -> float:
    """CPU milliseconds of this process per call, after a warm-up."""
    for _ in range(20):
        await call()
    started = time.process_time()
    for _ in range(calls):
        await call()
    return (time.process_time() - started) / calls * 1000


async def _gateway_parts(root: Path, calls: int) -> dict[str, float]:
    gw = build_gateway(LocalIssuer(root / "issuer", "http://gateway.test"))
    task = await gw.tasks.create(Task.new(user_id="reader", repo="acme/app", task_description="read me"))
    bearer = f"Bearer {gw.token('reader')}"

    async def verify() -> None:
        await gw.deps.verifier.verify(bearer)

    async with gw.client("reader", check=False) as client:
        async def get() -> None:
            if (await client.get(f"/v1/tasks/{task.task_id}")).status_code != 200:
                raise RuntimeError("the app did not answer 200")

        return {"JWT verification (RS256, key parsed once)": await _cpu_ms(verify, calls),
                "app GET, in-memory store, no HTTP server": await _cpu_ms(get, calls)}


async def _get_item_parts(calls: int) -> dict[str, float]:
    set_test_credentials()
    with moto_server() as endpoint:
        stack = make_stack(endpoint)
        table, key = stack.names.tasks_table, {"task_id": {"S": "t1"}}
        stack.boto("dynamodb").put_item(TableName=table, Item={**key, "body": {"S": "x" * 1500}})
        sync = stack.boto("dynamodb")

        async def boto3_get() -> None:
            sync.get_item(TableName=table, Key=key, ConsistentRead=True)

        async with get_session().create_client("dynamodb", endpoint_url=endpoint, region_name="us-east-1") as ddb:
            async def aio_get() -> None:
                await ddb.get_item(TableName=table, Key=key, ConsistentRead=True)

            return {"GetItem via aiobotocore (client side)": await _cpu_ms(aio_get, calls),
                    "GetItem via boto3 (client side)": await _cpu_ms(boto3_get, calls)}


async def run(calls: int) -> None:
    with tempfile.TemporaryDirectory() as root:
        parts = {**await _gateway_parts(Path(root), calls), **await _get_item_parts(calls)}
    print(f"machine: {machine()}; CPU per call over {calls} calls")
    for name, ms in parts.items():
        print(f"{name:<44} {ms:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=500)
    asyncio.run(run(parser.parse_args().calls))


if __name__ == "__main__":
    main()
