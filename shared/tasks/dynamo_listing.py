"""A user's tasks from DynamoDB, newest first, one page at a time, never by a scan."""

from __future__ import annotations

from typing import Any, Collection

from botocore.exceptions import ClientError

from shared.aws.dynamo import from_item, values
from shared.aws.guarded import error_code
from shared.aws.pagination import InvalidToken, decode_token, encode_token
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus
from shared.tasks.store import listing_fingerprint

# A filtered listing reads this many index items per query, and at most this many queries per page.
_FILTERED_PAGE_READ = 100
_MAX_QUERIES_PER_PAGE = 10


async def list_for_user(
    ddb: Any,
    table: str,
    user_id: str,
    *,
    statuses: Collection[TaskStatus] | None = None,
    repo: str | None = None,
    limit: int = 20,
    next_token: str | None = None,
) -> tuple[list[Task], str | None]:
    """One page of a user's tasks; the token is bound to the user and the filters."""
    wanted = sorted({TaskStatus(s) for s in statuses or ()})
    listing = listing_fingerprint(user_id, wanted, repo)
    # One status: its own slice of UserStatusIndex. Otherwise the user's whole history by
    # creation time, filtered. Either way newest first, and never a scan.
    sort_attr = "status_created" if len(wanted) == 1 else "created_at"
    args = _listing_query(table, user_id, wanted, repo)
    start = _open_listing_token(next_token, listing, user_id, sort_attr)
    filtered = "FilterExpression" in args
    found: list[Task] = []
    for _ in range(_MAX_QUERIES_PER_PAGE):
        args["Limit"] = _FILTERED_PAGE_READ if filtered else limit + 1 - len(found)
        if start:
            args["ExclusiveStartKey"] = start
        try:
            resp = await ddb.query(**args)
        except ClientError as exc:
            if next_token and error_code(exc) == "ValidationException":
                raise InvalidToken("next_token is not valid") from exc
            raise
        found.extend(Task.model_validate(from_item(i)) for i in resp.get("Items", []))
        start = resp.get("LastEvaluatedKey")
        if len(found) > limit or not start:
            break
    if len(found) > limit:
        last = found[limit - 1]
        position = {"task_id": last.task_id, "user_id": user_id,
                    sort_attr: last.status_created if sort_attr == "status_created" else last.created_at}
        return found[:limit], encode_token({"l": listing, "k": values(position)})
    return found, encode_token({"l": listing, "k": start}) if start else None


def _listing_query(table: str, user_id: str, wanted: list[TaskStatus], repo: str | None) -> dict[str, Any]:
    vals: dict[str, Any] = {":u": user_id}
    names: dict[str, str] = {}
    filters: list[str] = []
    if len(wanted) == 1:
        index, cond = "UserStatusIndex", "user_id = :u AND begins_with(status_created, :p)"
        vals[":p"] = f"{wanted[0].value}#"
    else:
        index, cond = "UserCreatedIndex", "user_id = :u"
        if wanted:
            names["#st"] = "status"
            filters.append("#st IN (" + ", ".join(f":s{i}" for i in range(len(wanted))) + ")")
            vals.update({f":s{i}": s.value for i, s in enumerate(wanted)})
    if repo:
        names["#repo"] = "repo"
        filters.append("#repo = :repo")
        vals[":repo"] = repo
    args: dict[str, Any] = {"TableName": table, "IndexName": index, "KeyConditionExpression": cond,
                            "ExpressionAttributeValues": values(vals), "ScanIndexForward": False}
    if filters:
        args["FilterExpression"] = " AND ".join(filters)
        args["ExpressionAttributeNames"] = names
    return args


def _open_listing_token(token: str | None, listing: str, user_id: str, sort_attr: str) -> dict | None:
    """The index position a list_for_user token resumes from, checked to belong to this very listing."""
    value = decode_token(token)
    if value is None:
        return None
    key = value.get("k")
    well_formed = (
        isinstance(key, dict)
        and set(key) == {"task_id", "user_id", sort_attr}
        and all(isinstance(v, dict) and list(v) == ["S"] and isinstance(v["S"], str) for v in key.values())
    )
    if value.get("l") != listing or not well_formed or not isinstance(key, dict) or key["user_id"]["S"] != user_id:
        raise InvalidToken("next_token belongs to another listing")
    return key
