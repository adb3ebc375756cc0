"""An AWS client whose transport and service failures surface once, as StoreUnavailable."""

from __future__ import annotations

import functools
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.aws.errors import StoreUnavailable

# Answers about the request itself, which the store inspects; any other failure is the service's.
DYNAMODB_ANSWERS = frozenset({"ConditionalCheckFailedException", "TransactionCanceledException",
                              "ValidationException"})
S3_ANSWERS = frozenset({"NoSuchKey", "404"})


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


class GuardedClient:
    """Wraps an aiobotocore client: conditional answers pass through, failures become StoreUnavailable."""

    def __init__(self, client: Any, answers: frozenset[str] = DYNAMODB_ANSWERS):
        self._client = client
        self._answers = answers

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._client, name)
        if not callable(call):
            return call

        @functools.wraps(call)
        async def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                return await call(*args, **kwargs)
            except ClientError as exc:
                if error_code(exc) in self._answers:
                    raise
                # The service's own words: an AccessDenied names the action and the resource refused.
                message = exc.response.get("Error", {}).get("Message") or ""
                raise StoreUnavailable(f"{name}: {error_code(exc) or exc}{': ' + message if message else ''}") from exc
            except BotoCoreError as exc:
                raise StoreUnavailable(f"{name}: {exc}") from exc

        return guarded
