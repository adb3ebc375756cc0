"""Model endpoints: operators register Anthropic-compatible endpoints that tasks and evaluation runs may name."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.gateway.auth import Principal
from services.gateway.deps import Caller, Deps, GatewayDeps, Writer
from services.gateway.openapi import AUTHENTICATED, WRITES, errors, success_headers
from services.gateway.refusals import Forbidden, InvalidField, ModelEndpointTaken, NoSuchModelEndpoint, Unavailable
from shared.llm.endpoints import EndpointStore, ModelEndpoint
from shared.llm.errors import EndpointExists
from shared.llm.prices import PriceBand
from shared.tasks.fields import EndpointName

router = APIRouter(prefix="/v1/model-endpoints", tags=["model endpoints"])
OPERATORS_GROUP = "bgagent-admins"
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class CreateModelEndpointRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: EndpointName
    base_url: Annotated[str, Field(max_length=2000, description="https (http only for loopback)")]
    key_secret: Annotated[str, Field(min_length=1, max_length=512,
                                     description="the name of the secret holding the key, "
                                                 "under bgagent/<stack>/endpoints/")]
    price: PriceBand | None = Field(None, description="USD per million tokens; none: calls cost 0")

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if not parts.hostname or parts.scheme not in ("https", "http") or \
                (parts.scheme == "http" and parts.hostname not in _LOOPBACK) or parts.username or parts.password:
            raise ValueError("base_url must be an https URL (http only for loopback), without credentials")
        return value.rstrip("/")


class ModelEndpointView(BaseModel):
    name: str
    base_url: str
    key_secret: str = Field(..., description="the secret's name; its value is never shown")
    price: PriceBand | None = None
    created_by: str
    created_at: str


class ModelEndpointResponse(BaseModel):
    data: ModelEndpointView


class ModelEndpointListResponse(BaseModel):
    data: list[ModelEndpointView]


def _store(d: GatewayDeps) -> EndpointStore:
    if d.model_endpoints is None:
        raise Unavailable("model endpoints are not configured on this gateway")
    return d.model_endpoints


def is_operator(d: GatewayDeps, caller: Principal) -> bool:
    """A user the settings name (`*`: everyone, as on the embedded stack), or in the operators' Cognito group."""
    named = {u.strip() for u in d.settings.admin_users.split(",") if u.strip()}
    groups = caller.claims.get("cognito:groups") or []
    return bool({caller.user_id, "*"} & named) or (isinstance(groups, list) and OPERATORS_GROUP in groups)


def _operator(d: GatewayDeps, caller: Principal) -> None:
    if not is_operator(d, caller):
        raise Forbidden("only operators register or remove model endpoints")


@router.post("", status_code=201, response_model=ModelEndpointResponse, summary="Register a model endpoint",
             description="Operators only. The key stays in the secrets store: only its name is kept here.",
             responses={**errors(*AUTHENTICATED, *WRITES, "FORBIDDEN", "MODEL_ENDPOINT_EXISTS"),
                        201: {"description": "Created", "headers": success_headers(Location="the endpoint's URL")}})
async def create_model_endpoint(body: CreateModelEndpointRequest, caller: Writer, d: Deps,
                                response: Response) -> ModelEndpointResponse:
    _operator(d, caller)
    prefix = f"bgagent/{d.settings.stack_name}/endpoints/"
    if not body.key_secret.startswith(prefix) or len(body.key_secret) == len(prefix):
        raise InvalidField("key_secret", f"the key's secret must be named {prefix}<name> (the agent may read only "
                                         "those)")
    endpoint = ModelEndpoint(**body.model_dump(), created_by=caller.user_id)
    try:
        created = await _store(d).create(endpoint)
    except EndpointExists as exc:
        raise ModelEndpointTaken(str(exc)) from exc
    response.headers["Location"] = f"/v1/model-endpoints/{created.name}"
    return ModelEndpointResponse(data=ModelEndpointView.model_validate(created.model_dump()))


@router.get("", response_model=ModelEndpointListResponse, summary="List the registered model endpoints",
            responses=errors(*AUTHENTICATED))
async def list_model_endpoints(caller: Caller, d: Deps) -> ModelEndpointListResponse:
    return ModelEndpointListResponse(data=[ModelEndpointView.model_validate(e.model_dump())
                                           for e in await _store(d).list()])


@router.delete("/{name}", response_model=ModelEndpointResponse, summary="Remove a model endpoint",
               description="Operators only. Tasks already hydrated keep using it; new ones naming it are refused.",
               responses=errors(*AUTHENTICATED, "RATE_LIMIT_EXCEEDED", "FORBIDDEN", "MODEL_ENDPOINT_NOT_FOUND"))
async def delete_model_endpoint(name: Annotated[str, Path(max_length=64)], caller: Writer,
                                d: Deps) -> ModelEndpointResponse:
    _operator(d, caller)
    removed = await _store(d).delete(name)
    if removed is None:
        raise NoSuchModelEndpoint(f"model endpoint {name} not found")
    return ModelEndpointResponse(data=ModelEndpointView.model_validate(removed.model_dump()))
