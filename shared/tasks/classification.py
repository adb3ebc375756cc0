"""Turning a failed task's error code into something a user can act on."""

from __future__ import annotations

from pydantic import BaseModel


class ErrorClassification(BaseModel):
    category: str
    title: str
    remedy: str
    retryable: bool


_TABLE: dict[str, ErrorClassification] = {
    "REPO_NOT_ONBOARDED": ErrorClassification(
        category="configuration", title="Repository is not onboarded",
        remedy="Onboard the repository (bgagent repo onboard OWNER/NAME) and submit again.", retryable=False),
    "GITHUB_UNAVAILABLE": ErrorClassification(
        category="dependency", title="GitHub could not be reached",
        remedy="Check GitHub's status and the platform's network egress, then submit again.", retryable=True),
    "GITHUB_AUTH": ErrorClassification(
        category="configuration", title="GitHub refused the platform's token",
        remedy="Store a valid token with repo scope for this repository.", retryable=False),
    "GITHUB_NOT_FOUND": ErrorClassification(
        category="input", title="Repository or issue not found on GitHub",
        remedy="Check the repository name and issue number, and that the token can see them.", retryable=False),
    "HYDRATION_FAILED": ErrorClassification(
        category="platform", title="Task context could not be assembled",
        remedy="Submit again; if it keeps failing, look at the hydrator's logs for this task id.", retryable=True),
    "ATTACHMENT_FETCH_FAILED": ErrorClassification(
        category="input", title="A URL attachment could not be fetched",
        remedy="Attach a public https URL that answers within 10 s with at most 10 MB of an accepted type "
               "(png, jpeg, gif, webp, text, markdown, csv, json, pdf), or attach the file inline.",
        retryable=True),
    "BASE_NOT_FOUND": ErrorClassification(
        category="input", title="The repository has no commit the case names as its base",
        remedy="Fix the case's base (a commit of the repository's history) or fetch the repository, then run again.",
        retryable=False),
    "GOLD_PATCH_FAILED": ErrorClassification(
        category="input", title="The case's reference patch does not apply",
        remedy="Fix the case's gold_patch so that `git apply` takes it at the case's base, then run again.",
        retryable=False),
    "EVAL_CASE_UNAVAILABLE": ErrorClassification(
        category="platform", title="The evaluation case could not be read",
        remedy="Run the evaluation again; if it keeps failing, look at the agent's logs for this task id.",
        retryable=True),
    "HYDRATION_TIMEOUT": ErrorClassification(
        category="platform", title="Task context took too long to assemble",
        remedy="Submit again; check the hydrator's health and GitHub latency.", retryable=True),
    "COMPUTE_START_FAILED": ErrorClassification(
        category="platform", title="The agent session could not be started",
        remedy="Check the compute capacity and the agent image, then submit again.", retryable=True),
    "AGENT_ERROR": ErrorClassification(
        category="agent", title="The agent reported an error",
        remedy="Read the error message and the task's events; refine the description and submit again.",
        retryable=True),
    "MODEL_ERROR": ErrorClassification(
        category="model", title="The model API refused or failed the request",
        remedy="Check the model id, the API key or Bedrock access, and the account's limits.", retryable=True),
    "MODEL_UNAVAILABLE": ErrorClassification(
        category="configuration", title="The model is not served or not priced",
        remedy="Use the replacement the error message names: set model_id on the task (--model), the "
               "repository's model (bgagent repo onboard OWNER/NAME --model ID) or the platform default "
               "(BGAGENT_DEFAULT_MODEL_ID; Pulumi bgagent:defaultModelId). A model outside the catalog needs a "
               "price in model_prices.", retryable=False),
    "ENGINE_UNAVAILABLE": ErrorClassification(
        category="configuration", title="The task's engine is not installed on this deployment",
        remedy="Install it (pip install 'bgagent[claude-code]', or scripts/bootstrap; on ECS the agent image with "
               "the claude-code extra) or choose another engine: --engine on the task, bgagent repo onboard "
               "OWNER/NAME --engine, or BGAGENT_DEFAULT_ENGINE.", retryable=False),
    "MODEL_AUTH": ErrorClassification(
        category="configuration", title="The model API rejected the platform's credentials",
        remedy="Set or check ANTHROPIC_API_KEY / the Bedrock credentials of the stack, then submit again "
               "(locally: bgagent local up --demo runs a built-in scripted model without a key).",
        retryable=False),
    "MAX_TURNS_REACHED": ErrorClassification(
        category="limits", title="The agent used all its turns",
        remedy="Raise max_turns or narrow the task; partial work, if any, is on the branch.", retryable=True),
    "BUDGET_EXCEEDED": ErrorClassification(
        category="limits", title="The agent reached its cost budget",
        remedy="Raise max_budget_usd or narrow the task; partial work, if any, is on the branch.", retryable=True),
    "AGENT_CRASHED": ErrorClassification(
        category="agent", title="The agent stopped without reporting a result",
        remedy="Submit again; if it repeats, read the agent's log for this task id.", retryable=True),
    "HEARTBEAT_LOST": ErrorClassification(
        category="agent", title="The agent stopped sending heartbeats",
        remedy="Submit again; if it repeats, check the agent's compute logs.", retryable=True),
    "MAX_DURATION_EXCEEDED": ErrorClassification(
        category="limits", title="The task ran longer than allowed",
        remedy="Narrow the task or raise the platform's maximum session duration.", retryable=True),
    "QUEUE_TIMEOUT": ErrorClassification(
        category="capacity", title="The task waited in the queue too long",
        remedy="Cancel some running tasks or raise the concurrency cap, then submit again.", retryable=True),
    "SANDBOX_UNAVAILABLE": ErrorClassification(
        category="configuration", title="No sandbox could be made for the agent's commands",
        remedy="Install bubblewrap on the agent host (apt-get install -y bubblewrap) and allow unprivileged user "
               "namespaces; only if you accept unsandboxed commands, set BGAGENT_SANDBOX=off.", retryable=False),
    "PR_NOT_FOUND": ErrorClassification(
        category="input", title="The pull request does not exist",
        remedy="Check the pull request number and that the platform's token can see the repository.",
        retryable=False),
    "PR_NOT_ITERABLE": ErrorClassification(
        category="input", title="The platform cannot push to this pull request",
        remedy="Only open pull requests whose head branch is in the repository itself can be iterated on; "
               "reopen it, or push the branch to the repository and submit again.", retryable=False),
    "CHANGE_TOO_LARGE": ErrorClassification(
        category="limits", title="The agent's change was too large to commit",
        remedy="Nothing was pushed. Ask for a smaller change, keep generated files out (.gitignore), or raise "
               "BGAGENT_MAX_CHANGE_MB / BGAGENT_MAX_CHANGE_FILES on the agent.", retryable=False),
    "PUSH_REJECTED": ErrorClassification(
        category="conflict", title="The pull request's branch moved while the agent worked",
        remedy="Someone pushed to the branch and a rebase did not apply cleanly: submit the iteration again.",
        retryable=True),
    "NOT_APPROVED": ErrorClassification(
        category="input", title="A step the task needed was not approved",
        remedy="The task's owner denied the push, or the repository's setup or test command, or nobody decided in "
               "time: submit again and approve it (bgagent pending), or change the repository's approval settings.",
        retryable=False),
}

_DEFAULT = ErrorClassification(
    category="unknown", title="The task failed",
    remedy="Read the error message and the task's events; submit again if it looks transient.", retryable=True)


def classify(error_code: str | None) -> ErrorClassification:
    """The classification of a failed task's error code (a generic one for unknown codes)."""
    return _TABLE.get(error_code or "", _DEFAULT)
