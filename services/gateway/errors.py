"""The API's error codes with their HTTP status, and the envelope every failure is answered with."""

from __future__ import annotations

STATUS = {
    "VALIDATION_ERROR": 400,
    "UNAUTHORIZED": 401,
    "FORBIDDEN": 403,
    "PR_NOT_YOURS": 403,
    "TASK_NOT_FOUND": 404,
    "DIFF_NOT_FOUND": 404,
    "ATTACHMENT_INVALID": 400,
    "ATTACHMENT_INVALID_CONTENT": 400,
    "ATTACHMENT_TOO_LARGE": 400,
    "ATTACHMENT_LIMIT_EXCEEDED": 400,
    "ENGINE_UNAVAILABLE": 400,
    "WEBHOOK_NOT_FOUND": 404,
    "SCHEDULE_NOT_FOUND": 404,
    "EVAL_NOT_FOUND": 404,
    "MODEL_ENDPOINT_NOT_FOUND": 404,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "DUPLICATE_TASK": 409,
    "TASK_ALREADY_TERMINAL": 409,
    "WEBHOOK_ALREADY_REVOKED": 409,
    "TASK_NOT_RUNNING": 409,
    "APPROVAL_NOT_PENDING": 409,
    "EVAL_NOT_RUNNING": 409,
    "MODEL_ENDPOINT_EXISTS": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "REPO_NOT_ONBOARDED": 422,
    "PR_NOT_FOUND": 422,
    "RATE_LIMIT_EXCEEDED": 429,
    "INTERNAL_ERROR": 500,
    "SERVICE_UNAVAILABLE": 503,
}


def envelope(code: str, message: str, request_id: str, details: list | None = None) -> dict:
    body: dict = {"code": code, "message": message, "request_id": request_id}
    if details:
        body["details"] = details
    return {"error": body}
