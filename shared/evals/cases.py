"""One evaluation case, validated where it enters (API, CLI, `eval mine`), and where its whole text is kept."""

from __future__ import annotations

import hashlib
import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.repos.models import RepoName

MAX_PATCH_CHARS = 2_000_000
CaseId = Annotated[str, Field(min_length=1, max_length=200)]
_SHA = re.compile(r"^[0-9a-f]{7,40}$")


class EvalCase(BaseModel):
    """A task for the agent at a commit, and the hidden tests that say whether it was solved."""

    model_config = ConfigDict(extra="forbid")

    id: CaseId
    repo: RepoName  # an onboarded repository
    base: str  # the commit the attempt starts from
    task: Annotated[str, Field(min_length=1, max_length=10_000)]
    # A unified diff of the hidden tests: applied only when grading, never visible to the model.
    test_patch: Annotated[str, Field(min_length=1, max_length=MAX_PATCH_CHARS)]
    test_command: Annotated[str, Field(min_length=1, max_length=2_000)]  # exit 0 = solved
    # The reference fix (the oracle engine applies it); "" = apply nothing (validates that the tests fail at base).
    gold_patch: Annotated[str, Field(max_length=MAX_PATCH_CHARS)] | None = None
    setup_command: Annotated[str, Field(min_length=1, max_length=2_000)] | None = None
    timeout_s: Annotated[int, Field(ge=10, le=7_200)] = 900
    tags: Annotated[list[Annotated[str, Field(max_length=100)]], Field(max_length=20)] = []

    @field_validator("base")
    @classmethod
    def _base(cls, value: str) -> str:
        if not _SHA.match(value):
            raise ValueError("base must be a commit id (7 to 40 lowercase hex digits)")
        return value


def case_digest(case_id: str) -> str:
    """A case id as key material: any characters, fixed length (idempotency keys, object keys)."""
    return hashlib.sha256(case_id.encode()).hexdigest()[:32]


def case_key(eval_id: str, case_id: str) -> str:
    """Where a run's case is kept in the artifacts bucket (the whole case, hidden tests included)."""
    return f"evals/{eval_id}/cases/{case_digest(case_id)}.json"


def attempt_idempotency_key(eval_id: str, case_id: str, attempt: int) -> str:
    """The idempotency key of one attempt's task: a redelivered or resumed run never creates it twice."""
    return f"eval-{eval_id}-{case_digest(case_id)}-{attempt}"
