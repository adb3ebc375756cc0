"""The whole stack: every component, wired from the shared topology, and the stack outputs."""

from __future__ import annotations

import pulumi

from bgagent_infra.account import lookup_account
from bgagent_infra.agent import Agent
from bgagent_infra.blueprint import Blueprint
from bgagent_infra.config import StackConfig
from bgagent_infra.data import Data
from bgagent_infra.dns_firewall import DnsFirewall
from bgagent_infra.identity import Identity
from bgagent_infra.messaging import Messaging
from bgagent_infra.network import Network
from bgagent_infra.observability import Observability
from bgagent_infra.services import Services
from bgagent_infra.warm import WarmAgents
from shared.topology.definition import Topology, build_topology
from shared.topology.names import ResourceNames
from shared.topology.policies import Refs, index_grants, table_grants


def _refs(config: StackConfig, topology: Topology, account: pulumi.Output, data: Data, messaging: Messaging,
          identity: Identity) -> pulumi.Output[Refs]:
    """The ARNs every role's policy is written from (the cluster and agent are added by Services)."""
    tables = {k: t.arn for k, t in data.tables.items()}
    queues = {s: pulumi.Output.all(q.arn, messaging.dlqs[s].arn) for s, q in messaging.queues.items()}
    secrets = {k: s.arn for k, s in identity.secrets.items()}
    sessions = messaging.sessions.arn if messaging.sessions else ""
    return pulumi.Output.all(account=account, tables=tables, queues=queues, bus=messaging.bus.arn,
                             bucket=data.bucket.arn, secrets=secrets, sessions=sessions).apply(lambda a: Refs(
        account=a["account"], stack=config.stack_name, tables=a["tables"],
        grants=table_grants(topology), index_grants=index_grants(topology),
        queues={s: tuple(pair) for s, pair in a["queues"].items()}, bus_arn=a["bus"], bucket_arn=a["bucket"],
        secrets=a["secrets"], cluster_arn="", cluster_name="", bedrock_model_arns=tuple(config.bedrock_model_arns),
        sessions_queue_arn=a["sessions"]))


def deploy(config: StackConfig) -> dict[str, pulumi.Output]:
    """Create the stack; return its outputs by name."""
    topology = build_topology(ResourceNames(config.stack_name), warm=config.ecs_mode == "warm")
    account = lookup_account()
    network = Network("network", config)
    if config.dns_firewall != "off":
        DnsFirewall("dns-firewall", config, network.vpc.id)
    data = Data("data", topology, config)
    messaging = Messaging("messaging", topology, account)
    identity = Identity("identity", config, account)
    refs = _refs(config, topology, account, data, messaging, identity)
    agent = Agent("agent", config, account, refs, identity, messaging.sessions)
    services = Services("services", config, topology, account, refs, network, identity, agent, messaging.sessions)
    if messaging.sessions:
        WarmAgents("warm-agents", config, topology, services.cluster, agent, network, messaging.sessions)
    observability = Observability("observability", config, topology, account, services)
    for blueprint in config.blueprints:
        Blueprint(f"blueprint-{blueprint.repo.replace('/', '-').lower()}", blueprint, data.tables["repos"])
    return {
        "api_url": services.api.api_url,
        "user_pool_id": identity.user_pool.id,
        "user_pool_client_id": identity.client.id,
        "jwt_issuer": identity.issuer,
        "table_names": {k: t.name for k, t in data.tables.items()},
        "queue_urls": {s: q.url for s, q in messaging.queues.items()},
        "dlq_urls": {s: q.url for s, q in messaging.dlqs.items()},
        "event_bus_name": messaging.bus.name,
        "artifacts_bucket": data.bucket.bucket,
        "ecr_repositories": {**{s: r.repository_url for s, r in services.repositories.items()},
                             "agent": agent.repository.repository_url},
        "secret_names": {**{k: s.name for k, s in identity.secrets.items()},
                         "github_webhook": identity.github_webhook_secret.name},
        "cluster_name": services.cluster.name,
        "agent_task_definition": agent.task_definition.arn,
        "dashboard_url": observability.dashboard_url,
    }
