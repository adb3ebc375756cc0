"""The platform's AWS topology as data: the embedded stack and Pulumi both build from it."""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.compute.sessions import ARN_INDEX
from shared.events.models import EVENT_SOURCE
from shared.events.subscriptions import CONSUMES, by_source
from shared.topology.grants import APPEND, CHECK, OWN, READ, SCAN, SERVICES, WRITE, each
from shared.topology.names import ResourceNames


@dataclass(frozen=True)
class KeyAttr:
    name: str
    type: str = "S"  # DynamoDB scalar type: S, N or B


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: KeyAttr
    range_key: KeyAttr | None = None


@dataclass(frozen=True)
class Table:
    logical: str
    name: str
    hash_key: KeyAttr
    range_key: KeyAttr | None = None
    indexes: tuple[Index, ...] = ()
    ttl_attribute: str | None = None
    # role → DynamoDB actions it may perform on the table and its indexes (IAM policies derive from this)
    grants: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False, compare=False)
    # role → the indexes it may query (only roles granted dynamodb:Query on the table)
    index_grants: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False, compare=False)

    def attributes(self) -> list[KeyAttr]:
        """Every key attribute of the table and its indexes, once each."""
        seen: dict[str, KeyAttr] = {}
        for attr in (self.hash_key, self.range_key, *[a for i in self.indexes for a in (i.hash_key, i.range_key)]):
            if attr is not None:
                seen.setdefault(attr.name, attr)
        return list(seen.values())


@dataclass(frozen=True)
class Queue:
    service: str
    name: str
    dlq_name: str
    max_receive_count: int = 4
    visibility_timeout: int = 60
    retention_seconds: int = 4 * 24 * 3600
    dlq_retention_seconds: int = 14 * 24 * 3600
    fifo: bool = False


@dataclass(frozen=True)
class Rule:
    name: str
    queue_service: str
    pattern: dict = field(hash=False)
    on_default_bus: bool = False  # AWS service events (ECS) arrive on the default bus only


@dataclass(frozen=True)
class Topology:
    names: ResourceNames
    tables: tuple[Table, ...]
    queues: tuple[Queue, ...]
    rules: tuple[Rule, ...]
    bus_name: str
    bucket_name: str
    sessions: Queue | None = None  # warm capacity: sessions waiting for an idle agent (its consumer is "agent")

    def queue_for(self, service: str) -> Queue:
        return next(q for q in self.queues if q.service == service)


# Which detail-types each consuming service reads from the bus, by source: derived from the one table
# (shared.events.subscriptions) that each service's HANDLERS is checked against.
SUBSCRIPTIONS: dict[str, dict[str, tuple[str, ...]]] = {service: by_source(service) for service in CONSUMES}


def _pattern(names: ResourceNames, source: str, detail_types: tuple[str, ...], warm: bool) -> dict:
    pattern: dict = {"source": [source], "detail-type": list(detail_types)}
    if source == "aws.ecs":
        # Only our agent sessions: not the services' own tasks, nor anything else in the account.
        groups = [f"family:{names.agent_task_family}"] + ([f"service:{names.warm_agents_service}"] if warm else [])
        pattern["detail"] = {"lastStatus": ["STOPPED"], "group": groups}
    return pattern


def _sessions_table(names: ResourceNames) -> Table:
    """Warm capacity's claims (shared.compute.sessions): agents claim, stops call off, the finalizer looks up."""
    return Table("sessions", names.sessions_table, KeyAttr("task_id"),
                 indexes=(Index(ARN_INDEX, KeyAttr("task_arn")),), ttl_attribute="expires_at",
                 grants={**each(("agent", "dispatcher", "reconciler"), APPEND), "finalizer": READ},
                 index_grants={"finalizer": (ARN_INDEX,)})


def build_topology(names: ResourceNames, *, warm: bool = False) -> Topology:
    """Every table, queue, rule, bus and bucket of one stack; `warm` adds warm capacity's queue and table."""
    s, n = KeyAttr("task_id"), KeyAttr
    tables: tuple[Table, ...] = (
        Table(
            "tasks", names.tasks_table, s,
            indexes=(
                Index("UserStatusIndex", n("user_id"), n("status_created")),
                Index("UserCreatedIndex", n("user_id"), n("created_at")),
                Index("StatusIndex", n("status"), n("created_at")),
                # Sparse: only tasks whose transitions announced events not yet marked sent.
                Index("OutboxIndex", n("outbox_pending"), n("updated_at")),
            ),
            ttl_attribute="expires_at",
            grants={**each((*SERVICES, "agent"), WRITE), **each(("gateway", "agent", "reconciler"), WRITE + CHECK)},
            index_grants={"gateway": ("UserStatusIndex", "UserCreatedIndex"), "hydrator": ("UserStatusIndex",),
                          "reconciler": ("StatusIndex", "OutboxIndex")},  # the reconciler relays stale outboxes
        ),
        Table("task_events", names.task_events_table, s, n("event_id"), grants=each((*SERVICES, "agent"), APPEND)),
        Table("user_concurrency", names.user_concurrency_table, n("user_id"),
              grants={**each(SERVICES, WRITE), "reconciler": WRITE + SCAN}),
        Table("repos", names.repos_table, n("repo"),  # the gateway lists them (model check at start, web panel)
              grants={**each(("hydrator", "finalizer", "reconciler", "agent"), READ), "gateway": READ + SCAN}),
        Table("webhooks", names.webhooks_table, n("webhook_id"), indexes=(Index("UserIndex", n("user_id")),),
              grants={"gateway": WRITE}, index_grants={"gateway": ("UserIndex",)}),
        Table("memory", names.memory_table, n("repo"), n("sk"),
              grants={"hydrator": READ, "finalizer": APPEND, "agent": APPEND}),
        Table("pulls", names.pulls_table, n("repo"), n("head"),  # pull requests of repositories on a local git host
              grants={"agent": WRITE, "hydrator": READ, "finalizer": READ, "gateway": READ}),  # the panel shows them
        # Who opened each bgagent PR: the finalizer records it, PR tasks are checked against it at submit and firing.
        Table("pull_outcomes", names.pull_outcomes_table, n("repo"), n("pr_number", "N"),
              grants={"finalizer": APPEND, **each(("gateway", "reconciler"), READ)}),
        Table("idempotency", names.idempotency_table, n("key"), ttl_attribute="expires_at",
              grants=each(("gateway", "reconciler"), APPEND)),
        Table("schedules", names.schedules_table, n("schedule_id"), indexes=(
            Index("UserIndex", n("user_id"), n("created_at")),
            Index("DueIndex", n("due"), n("next_run_at")),  # sparse: active schedules only
        ), grants={"gateway": OWN, "reconciler": APPEND},  # the reconciler runs due schedules
              index_grants={"gateway": ("UserIndex",), "reconciler": ("DueIndex",)}),
        # Evaluation runs: the gateway creates and cancels them, the reconciler's driver starts and counts attempts.
        Table("evals", names.evals_table, n("eval_id"), indexes=(
            Index("UserIndex", n("user_id"), n("created_at")),
            Index("RunningIndex", n("running"), n("created_at")),  # sparse: running runs only
        ), grants=each(("gateway", "reconciler"), WRITE),
              index_grants={"gateway": ("UserIndex",), "reconciler": ("RunningIndex",)}),
        Table("eval_items", names.eval_items_table, n("eval_id"), n("sk"),  # cases (c#…) and counted attempts (a#…)
              grants={"gateway": (*APPEND, "dynamodb:BatchWriteItem"), "reconciler": APPEND}),
        Table("model_endpoints", names.model_endpoints_table, n("name"),
              grants={"gateway": OWN + SCAN, **each(("hydrator", "reconciler"), READ)}),
        # Nudges and approval decisions are written in one transaction with a check on the task's status.
        Table("nudges", names.nudges_table, s, n("nudge_id"), grants=each(("gateway", "agent"), WRITE)),
        Table("approvals", names.approvals_table, s, n("approval_id"),
              indexes=(Index("PendingIndex", n("pending_user"), n("created_at")),),
              grants=each(("gateway", "agent", "reconciler"), WRITE),  # the reconciler expires them
              index_grants={"gateway": ("PendingIndex",)}),
    )
    if warm:
        tables += (_sessions_table(names),)
    queues = tuple(Queue(svc, names.queue(svc), names.dlq(svc)) for svc in SUBSCRIPTIONS)
    rules = tuple(
        Rule(
            f"{names.stack}-{svc}-{source.replace('.', '-')}", svc, _pattern(names, source, types, warm),
            on_default_bus=source != EVENT_SOURCE,
        )
        for svc, sources in SUBSCRIPTIONS.items()
        for source, types in sources.items()
    )
    # A session waits at most a few seconds for an idle agent; one that keeps failing to be taken dead-letters.
    sessions = Queue("agent", names.sessions_queue, names.sessions_dlq, max_receive_count=5, visibility_timeout=60,
                     retention_seconds=24 * 3600, fifo=True) if warm else None
    return Topology(names, tables, queues, rules, names.event_bus, names.artifacts_bucket, sessions)
