"""Conversions between plain Python values and DynamoDB's typed attribute maps."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_ser = TypeSerializer()
_de = TypeDeserializer()


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [_from_dynamo(v) for v in value]
    return value


def serialize(value: Any) -> dict:
    """One Python value as a DynamoDB attribute value."""
    return _ser.serialize(_to_dynamo(value))


def to_item(data: Mapping[str, Any]) -> dict:
    """A dict as a DynamoDB item, leaving out None values."""
    return {k: serialize(v) for k, v in data.items() if v is not None}


def from_item(item: Mapping[str, Any]) -> dict:
    """A DynamoDB item as a plain dict of Python values."""
    return {k: _from_dynamo(_de.deserialize(v)) for k, v in item.items()}


def values(mapping: Mapping[str, Any]) -> dict:
    """ExpressionAttributeValues from a plain mapping of placeholder to value."""
    return {k: serialize(v) for k, v in mapping.items()}
