"""An in-memory SQS queue with the calls the consumer loop makes, recording what it hands out."""

from __future__ import annotations

import asyncio
import itertools


class FakeQueue:
    """Messages wait in a list; a receive hands out up to its maximum and records each message's id."""

    def __init__(self) -> None:
        self.waiting: list[dict] = []
        self.handed_out: list[str] = []
        self.deleted: list[str] = []
        self._ids = itertools.count(1)

    def send(self, body: str) -> str:
        message_id = f"m{next(self._ids)}"
        self.waiting.append({"MessageId": message_id, "ReceiptHandle": f"r-{message_id}", "Body": body,
                             "Attributes": {"ApproximateReceiveCount": "1"}})
        return message_id

    async def receive_message(self, *, MaxNumberOfMessages: int, WaitTimeSeconds: float, **_) -> dict:
        if not self.waiting:
            await asyncio.sleep(min(WaitTimeSeconds, 0.05))
        taken, self.waiting = self.waiting[:MaxNumberOfMessages], self.waiting[MaxNumberOfMessages:]
        self.handed_out.extend(m["MessageId"] for m in taken)
        return {"Messages": taken}

    async def delete_message(self, *, ReceiptHandle: str, **_) -> dict:
        self.deleted.append(ReceiptHandle.removeprefix("r-"))
        return {}

    async def change_message_visibility(self, **_) -> dict:
        return {}
