"""A service's routing table: one handler per event type it consumes, checked against its subscription."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Mapping

from pydantic import BaseModel

from shared.events.subscriptions import CONSUMES
from shared.messaging.errors import PoisonMessage

Handler = Callable[[BaseModel], Awaitable[None]]
Routes = Mapping[type[BaseModel], Handler]
# A handler as written in a class body: the unbound method, called with the service object.
Method = Callable[[Any, Any], Awaitable[None]]


def routing_table(service: str, table: Mapping[type[BaseModel], Method]) -> dict[type[BaseModel], Method]:
    """The service's HANDLERS; it must handle exactly what the topology subscribes its queue to."""
    if set(table) != set(CONSUMES[service]):
        missing = {m.__name__ for m in CONSUMES[service]} - {m.__name__ for m in table}
        extra = {m.__name__ for m in table} - {m.__name__ for m in CONSUMES[service]}
        raise TypeError(f"{service} HANDLERS disagree with its subscription: missing {missing}, extra {extra}")
    return dict(table)


def bind(table: Mapping[type[BaseModel], Method], service_object: Any) -> dict[type[BaseModel], Handler]:
    """The table with each handler bound to the service's object: what the consumer dispatches on."""
    return {kind: _bound(method, service_object) for kind, method in table.items()}


def _bound(method: Method, service_object: Any) -> Handler:
    async def handler(event: BaseModel) -> None:
        await method(service_object, event)

    return handler


async def dispatch(table: Mapping[type[BaseModel], Method], service_object: Any, event: BaseModel) -> None:
    """Run the handler the table has for this event's type; an event it has none for is poison."""
    method = table.get(type(event))
    if method is None:
        raise PoisonMessage(f"{type(service_object).__name__} does not handle {type(event).__name__}")
    await method(service_object, event)
