"""Reading one case of a run back from the artifacts bucket (the hydrator for its base, the grader for its tests)."""

from __future__ import annotations

from typing import Any, Protocol

from botocore.exceptions import ClientError

from shared.aws.guarded import S3_ANSWERS, GuardedClient
from shared.evals.cases import EvalCase, case_key


class CaseSource(Protocol):
    """Where a run keeps its cases."""

    async def get(self, eval_id: str, case_id: str) -> EvalCase | None: ...


class S3CaseSource:
    """Cases stored at `case_key(eval_id, case_id)` in the artifacts bucket."""

    def __init__(self, s3: Any, bucket: str):
        self._s3 = GuardedClient(s3, S3_ANSWERS)
        self._bucket = bucket

    async def get(self, eval_id: str, case_id: str) -> EvalCase | None:
        try:
            resp = await self._s3.get_object(Bucket=self._bucket, Key=case_key(eval_id, case_id))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        async with resp["Body"] as body:
            return EvalCase.model_validate_json(await body.read())
