"""Errors of the agent runtime, each with a message a user can read."""

from __future__ import annotations

# What to do when the model API has no credentials or rejects them (the relay holds them, from these settings).
AUTH_REMEDY = "set or check ANTHROPIC_API_KEY (or the Bedrock credentials)"


class AgentError(Exception):
    """Base of agent errors; str() is the readable message that ends up on the task."""


class NotStarted(AgentError):
    """The task never reached RUNNING within the start wait."""


class Cancelled(AgentError):
    """The task left RUNNING (cancelled, timed out) or the process was told to stop."""


class ContextUnavailable(AgentError):
    """The hydrated context could not be loaded."""


class WorkspaceError(AgentError):
    """A git step on the workspace failed (clone, branch, commit)."""


class ChangeTooLarge(WorkspaceError):
    """The work is over the configured size or file count: nothing is committed or pushed."""

    code = "CHANGE_TOO_LARGE"


class PushRejected(WorkspaceError):
    """The remote refused the branch push."""

    code = "PUSH_REJECTED"


class BaseNotFound(WorkspaceError):
    """The repository has no commit an evaluation case names as its base."""

    code = "BASE_NOT_FOUND"


class SetupFailed(AgentError):
    """The repository's setup command failed."""


class ModelRefused(AgentError):
    """The model API refused the request (4xx): retrying cannot help."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class ModelNotServed(ModelRefused):
    """The API does not serve the model (404 not_found_error, or it says the model is retired)."""


class ModelNotPriced(AgentError):
    """Neither the hydrated context nor the catalog prices the model: no budget can be enforced."""

    code = "MODEL_UNAVAILABLE"


class ModelAuthFailed(ModelRefused):
    """The model API rejected the credentials (401/403), or none are configured."""


class ModelUnavailable(AgentError):
    """The model API kept failing (429/5xx/timeouts) past the retry ceiling."""


class PullRequestFailed(AgentError):
    """The git host refused to open or update the pull request."""


class NotApproved(AgentError):
    """The task's owner denied (or let expire) a step the task cannot go on without: the push, setup, tests."""

    code = "NOT_APPROVED"


class EngineNotInstalled(AgentError):
    """The task's engine cannot run on this agent host: not installed (the gateway refuses such tasks where it
    knows), or not without a sandbox."""

    code = "ENGINE_UNAVAILABLE"


class ModelEndpointUnavailable(AgentError):
    """The task names a model endpoint whose key cannot be read (the secret is gone, or no secrets store)."""

    code = "MODEL_AUTH"
