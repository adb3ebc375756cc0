"""What can go wrong in a CLI command, each with the exit code the user's scripts see."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_API = 3
EXIT_NETWORK = 4
EXIT_TASK_FAILED = 5
EXIT_GATE = 6

# What to do next, by API error code.
HINTS = {
    "UNAUTHORIZED": "run `bgagent login` (local stack: check that the profile's api_url is the one "
                    "`bgagent local status` shows)",
    "FORBIDDEN": "this object belongs to another user",
    "REPO_NOT_ONBOARDED": "an operator runs `bgagent repo onboard OWNER/NAME` first",
    "TASK_NOT_FOUND": "`bgagent list` shows your tasks",
    "WEBHOOK_NOT_FOUND": "`bgagent webhook list` shows your webhooks",
    "TASK_ALREADY_TERMINAL": "the task has ended (or is recording its result); `bgagent status TASK_ID` shows it",
    "DUPLICATE_TASK": "another user already used this idempotency key: pick another",
    "RATE_LIMIT_EXCEEDED": "slow down and retry in a few seconds",
    "SERVICE_UNAVAILABLE": "the platform is starting or overloaded: retry shortly",
    "EVAL_NOT_FOUND": "`bgagent eval list` shows your evaluation runs",
    "EVAL_NOT_RUNNING": "the run has ended; `bgagent eval show EVAL_ID` shows its results",
    "VALIDATION_ERROR": "`bgagent COMMAND --help` lists the accepted values",
}


class CliError(Exception):
    """A failure shown as one line (and an optional hint), never a traceback."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(CliError):
    """The command was called wrongly (argparse's own errors exit 2 too)."""

    exit_code = EXIT_USAGE


class ApiError(CliError):
    """An error envelope from the API (or from the identity provider)."""

    exit_code = EXIT_API

    def __init__(self, code: str, message: str, *, status: int | None = None, request_id: str | None = None,
                 details: list | None = None, hint: str | None = None):
        super().__init__(message, hint=hint or HINTS.get(code))
        self.code = code
        self.status = status
        self.request_id = request_id
        self.details = details or []


class NetworkError(CliError):
    """The URL could not be reached at all."""

    exit_code = EXIT_NETWORK

    def __init__(self, url: str, reason: str):
        super().__init__(f"could not reach {url}: {reason}",
                         hint="check the API URL (`bgagent configure --list`) and that the platform is up")
        self.url = url
