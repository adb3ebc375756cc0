"""IAM enforcement in the emulator the way AWS authorizes: per action and resource, denials naming both.

moto enforces identity policies for signed requests once its unauthenticated allowance is spent, but
checks DynamoDB, EventBridge and Secrets Manager calls against Resource "*" only (so a policy scoped to a
table ARN refuses everything), authorizes a TransactWriteItems as one `dynamodb:TransactWriteItems`
action (AWS authorizes each item's PutItem/UpdateItem/DeleteItem/ConditionCheckItem on its table), and its
denials do not say on what. Here each request becomes the (action, resource ARN) pairs AWS would check.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

JSON_PROTOCOL = {"dynamodb", "events", "secretsmanager", "sqs", "ecs", "logs"}  # their clients cannot parse XML errors
_TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                     "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}


def _body(handler: Any) -> dict:
    body = handler.body
    if isinstance(body, dict):  # some handlers parse their JSON before authorizing
        return body
    try:
        return json.loads(body or "{}")
    except ValueError:
        return {}


def _arn(handler: Any, service: str, resource: str) -> str:
    return f"arn:{handler.partition}:{service}:{handler.region}:{handler.current_account}:{resource}"


def _table(handler: Any, name: str, index: str | None = None) -> str:
    arn = name if name.startswith("arn:") else _arn(handler, "dynamodb", f"table/{name}")
    return f"{arn}/index/{index}" if index else arn


Request = tuple[str, str, dict[str, str]]  # action, resource ARN, condition keys of the request


def dynamodb_requests(handler: Any, action: str) -> Iterator[Request]:
    """What AWS authorizes for one DynamoDB call."""
    body = _body(handler)
    if action in ("TransactWriteItems", "TransactGetItems"):
        for item in body.get("TransactItems", []):
            for op, spec in item.items():
                yield _TRANSACT_ACTIONS.get(op, op), _table(handler, spec.get("TableName", "")), {}
    elif action in ("BatchGetItem", "BatchWriteItem"):
        for table in body.get("RequestItems", {}):
            yield action, _table(handler, table), {}
    elif "TableName" in body:
        yield action, _table(handler, body["TableName"], body.get("IndexName")), {}
    else:
        yield action, "*", {}


def events_requests(handler: Any, action: str) -> Iterator[Request]:
    """PutEvents is authorized per entry: its bus, its source and detail-type; other calls on "*" as moto does."""
    if action != "PutEvents":
        yield action, "*", {}
        return
    for entry in _body(handler).get("Entries", []):
        bus = entry.get("EventBusName") or "default"
        yield (action, bus if bus.startswith("arn:") else _arn(handler, "events", f"event-bus/{bus}"),
               {"events:source": entry.get("Source", ""), "events:detail-type": entry.get("DetailType", "")})


def secrets_requests(handler: Any, action: str) -> Iterator[Request]:
    """Secrets are authorized on their ARN, which begins with `secret:<name>`."""
    from moto.secretsmanager.models import secretsmanager_backends

    body = _body(handler)
    secret = body.get("SecretId") or body.get("Name")
    if not secret:
        yield action, "*", {}
        return
    store = secretsmanager_backends[handler.current_account][handler.region].secrets
    if secret in store:
        yield action, store[secret].arn, {}
    else:  # a secret about to be created, or a missing one: AWS names it by a not-yet-suffixed ARN
        yield action, secret if secret.startswith("arn:") else _arn(handler, "secretsmanager", f"secret:{secret}"), {}


def _sqs_resource(original):
    """GetQueueUrl names its queue by QueueName, which moto's resource lookup does not read."""
    def determine(self: Any) -> str:
        if self._get_action() == "GetQueueUrl":
            name = self._get_param("QueueName")
            return _arn(self, "sqs", name) if name else "*"
        return original(self)
    return determine


def _permitted(request: Any, arn: str, keys: dict[str, str]) -> bool:
    """Identity-policy evaluation with the request's condition keys (moto's own passes none)."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    results = [IAMPolicy(p).is_action_permitted(request._action, arn, None, keys or None)
               for p in request._access_key.collect_policies()]
    return PermissionResult.DENIED not in results and PermissionResult.PERMITTED in results


def _authorize(requests_of):
    """A replacement of moto's per-request authorization that checks every (action, resource) pair."""
    def authorize(self: Any, resource: str = "*") -> None:
        from moto import settings
        from moto.core.authorization import ActionAuthenticatorMixin
        from moto.core.exceptions import JsonRESTError
        from moto.iam.access_control import IAMRequest

        if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
            ActionAuthenticatorMixin.request_count += 1
            return
        path = self.raw_path + (f"?{self.parsed_url.query}" if self.parsed_url.query else "")
        signed = False
        for action, arn, keys in requests_of(self, self._get_action()):
            request = IAMRequest(account_id=self.current_account, method=self.method, path=path, data=self.data,
                                 body=self.raw_body, headers=self.headers, action=action)
            if not signed:
                request.check_signature()
                signed = True
            if not _permitted(request, arn, keys):
                context = "".join(f", {k}={v}" for k, v in keys.items())
                raise JsonRESTError("AccessDeniedException", f"User: {request._access_key.arn} is not authorized "
                                    f"to perform: {request._action} on resource: {arn}{context}")
    return authorize


def _named_denials() -> None:
    """moto's other denials (SQS, S3) name the resource too."""
    from moto.core.exceptions import AccessDeniedError, JsonRESTError
    from moto.iam.access_control import IAMRequest, IAMRequestBase, S3IAMRequest
    from moto.s3.exceptions import S3AccessDeniedError

    original = IAMRequestBase.check_action_permitted

    def check(self: Any, resource: str) -> None:
        self._bgagent_resource = resource
        original(self, resource)

    def denied(self: Any) -> None:
        action = f"{self._action} on resource: {self._bgagent_resource}"
        if self._service in JSON_PROTOCOL:
            raise JsonRESTError("AccessDenied", f"User: {self._access_key.arn} is not authorized to perform: {action}")
        raise AccessDeniedError(user_arn=self._access_key.arn, action=action)

    original_invalid = IAMRequest._raise_invalid_access_key

    def invalid(self: Any, reason: str) -> None:
        if self._service in JSON_PROTOCOL:
            raise JsonRESTError("UnrecognizedClientException", "The security token included in the request is "
                                "invalid (IAM is enforced: use the credentials of a user of this emulator)")
        original_invalid(self, reason)

    def s3_denied(self: Any) -> None:
        error = S3AccessDeniedError()
        error.message = (f"User: {self._access_key.arn} is not authorized to perform: {self._action} "
                         f"on resource: {self._bgagent_resource}")
        raise error

    # moto's request checks, replaced on purpose
    setattr(IAMRequestBase, "check_action_permitted", check)  # noqa: B010
    setattr(IAMRequest, "_raise_access_denied", denied)  # noqa: B010
    setattr(IAMRequest, "_raise_invalid_access_key", invalid)  # noqa: B010
    setattr(S3IAMRequest, "_raise_access_denied", s3_denied)  # noqa: B010


def enforce_like_aws() -> None:
    """Patch moto's handlers so IAM enforcement (once switched on) authorizes as AWS does."""
    from moto.dynamodb.responses import DynamoHandler
    from moto.events.responses import EventsHandler
    from moto.secretsmanager.responses import SecretsManagerResponse
    from moto.sqs.responses import SQSResponse

    if getattr(DynamoHandler, "_bgagent_authorized", False):
        return
    # moto's handlers, patched on purpose to enforce the stack's IAM policies
    setattr(DynamoHandler, "_authenticate_and_authorize_normal_action",  # noqa: B010
            _authorize(dynamodb_requests))
    setattr(EventsHandler, "_authenticate_and_authorize_normal_action",  # noqa: B010
            _authorize(events_requests))
    setattr(SecretsManagerResponse, "_authenticate_and_authorize_normal_action",  # noqa: B010
            _authorize(secrets_requests))
    setattr(SQSResponse, "_determine_resource", _sqs_resource(SQSResponse._determine_resource))  # noqa: B010
    _named_denials()
    setattr(DynamoHandler, "_bgagent_authorized", True)  # noqa: B010
