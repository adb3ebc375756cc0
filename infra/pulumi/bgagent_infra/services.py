"""The ECS cluster and one Fargate service per platform service, each with its own least-privilege role."""

from __future__ import annotations

import dataclasses
import json

import pulumi
import pulumi_aws as aws

from bgagent_infra.account import Account
from bgagent_infra.agent import Agent
from bgagent_infra.config import SERVICES, WORKERS, StackConfig
from bgagent_infra.containers import XRAY_MEMORY_MIB, container, task_plumbing, xray_container
from bgagent_infra.environment import EnvRefs, secret_variables, service_environment
from bgagent_infra.identity import Identity
from bgagent_infra.load_balancer import HEALTH_PATH, api_load_balancer
from bgagent_infra.network import GATEWAY_PORT, Network
from bgagent_infra.roles import role_with_policy
from bgagent_infra.scaling import scale_on_cpu, scale_on_queue_depth
from shared.topology.definition import Topology
from shared.topology.policies import Refs, task_role_policy

FIXED_COUNT = ("reconciler",)  # one tick a minute: a single task is always enough
_GATEWAY_HEALTH = {
    "command": ["CMD", "python", "-c",
                f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{GATEWAY_PORT}{HEALTH_PATH}', "
                "timeout=3)"],
    "interval": 15, "timeout": 5, "retries": 3, "startPeriod": 20,
}


class Services(pulumi.ComponentResource):
    """Cluster, ALB, and for every service: image repository, logs, roles, task definition, service, scaling."""

    def __init__(self, name: str, config: StackConfig, topology: Topology, account: pulumi.Output[Account],
                 refs: pulumi.Output[Refs], network: Network, identity: Identity, agent: Agent,
                 sessions: aws.sqs.Queue | None = None, opts: pulumi.ResourceOptions | None = None):
        super().__init__("bgagent:infra:Services", name, None, opts)
        self._config = config
        stack = config.stack_name
        self.cluster = aws.ecs.Cluster(f"{name}-cluster", name=stack, settings=[{
            "name": "containerInsights", "value": "enabled" if config.container_insights else "disabled"}],
            opts=pulumi.ResourceOptions(parent=self))
        self.api = api_load_balancer(name, config, network, self)
        self.refs = pulumi.Output.all(refs, self.cluster.arn, self.cluster.name, agent.task_definition.arn,
                                      agent.task_role.arn, agent.execution_role.arn).apply(
            lambda a: dataclasses.replace(a[0], cluster_arn=a[1], cluster_name=a[2], agent_task_definition_arn=a[3],
                                          agent_role_arns=(a[4], a[5])))
        self.env_refs = pulumi.Output.all(
            account, self.api.api_url, identity.jwks_url, identity.issuer, identity.client.id, self.cluster.arn,
            agent.task_definition.arn, network.private_subnet_ids, network.agent_sg.id,
            sessions.url if sessions else "",
        ).apply(lambda a: EnvRefs(region=a[0].region, api_url=a[1], jwks_url=a[2], jwt_issuer=a[3], jwt_audience=a[4],
                                  cluster_arn=a[5], agent_task_definition_arn=a[6], subnets=tuple(a[7]),
                                  agent_security_groups=(a[8],), sessions_queue_url=a[9]))
        self.task_roles: dict[str, aws.iam.Role] = {}
        self.repositories: dict[str, aws.ecr.Repository] = {}
        self.services: dict[str, aws.ecs.Service] = {}
        for service in SERVICES:
            self._service(name, service, account, network, identity)
        for service in WORKERS:
            if service not in FIXED_COUNT:
                scale_on_queue_depth(f"{name}-{service}", self._resource_id(service), topology.queue_for(service).name,
                                     config.size(service), config.scale_out_backlog, self)
        scale_on_cpu(f"{name}-gateway", self._resource_id("gateway"), config.size("gateway"), self)
        self.register_outputs({"cluster": self.cluster.arn, "api_url": self.api.api_url})

    def _resource_id(self, service: str) -> pulumi.Output[str]:
        return pulumi.Output.concat("service/", self.cluster.name, "/", self.services[service].name)

    def _service(self, name: str, service: str, account: pulumi.Output[Account], network: Network,
                 identity: Identity) -> None:
        config, stack, size = self._config, self._config.stack_name, self._config.size(service)
        injected = secret_variables(service, set(identity.secrets))
        secret_names = list(injected.values())
        plumbing = task_plumbing(f"{name}-{service}", service, config=config, account=account, parent=self,
                                 injected_secret_arns=[identity.secrets[s].arn for s in secret_names])
        task_role = role_with_policy(f"{name}-{service}-task", role_name=f"{stack}-{service}-task",
                                     principal="ecs-tasks.amazonaws.com", account=account,
                                     policy=self.refs.apply(lambda r: task_role_policy(service, r, xray=config.xray)),
                                     parent=self)
        self.task_roles[service] = task_role
        self.repositories[service] = plumbing.repository
        gateway = service == "gateway"

        def definitions(a: list) -> str:
            env_refs, image, log_group = a[0], a[1], a[2]
            app_memory = size.memory - (XRAY_MEMORY_MIB if config.xray else 0)
            app = container(service, image=image, log_group=log_group, region=env_refs.region, memory=app_memory,
                            environment=service_environment(service, config, env_refs),
                            secrets={var: a[3 + secret_names.index(s)] for var, s in injected.items()},
                            port=GATEWAY_PORT if gateway else None,
                            health_check=_GATEWAY_HEALTH if gateway else None)
            sidecars = [xray_container(config.xray_daemon_image, log_group, env_refs.region)] if config.xray else []
            return json.dumps([app, *sidecars])

        task_definition = aws.ecs.TaskDefinition(
            f"{name}-{service}", family=f"{stack}-{service}", cpu=str(size.cpu), memory=str(size.memory),
            network_mode="awsvpc", requires_compatibilities=["FARGATE"],
            runtime_platform={"operating_system_family": "LINUX", "cpu_architecture": "X86_64"},
            execution_role_arn=plumbing.execution_role.arn, task_role_arn=task_role.arn,
            container_definitions=pulumi.Output.all(
                self.env_refs, plumbing.image, plumbing.log_group.name,
                *[identity.secrets[s].arn for s in secret_names]).apply(definitions),
            opts=pulumi.ResourceOptions(parent=self))
        self.services[service] = aws.ecs.Service(
            f"{name}-{service}", name=service, cluster=self.cluster.arn, task_definition=task_definition.arn,
            desired_count=size.desired_count, launch_type="FARGATE", propagate_tags="SERVICE",
            network_configuration={"subnets": network.private_subnet_ids, "assign_public_ip": False,
                                   "security_groups": [(network.gateway_sg if gateway else network.workers_sg).id]},
            load_balancers=[{"target_group_arn": self.api.target_group.arn, "container_name": service,
                             "container_port": GATEWAY_PORT}] if gateway else None,
            health_check_grace_period_seconds=30 if gateway else None,
            deployment_circuit_breaker={"enable": True, "rollback": True},
            deployment_minimum_healthy_percent=100, deployment_maximum_percent=200,
            # Autoscaling owns the count of every service but the reconciler once it exists.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=[] if service in FIXED_COUNT else ["desiredCount"],
                                        depends_on=[self.api.listener] if gateway else None))
