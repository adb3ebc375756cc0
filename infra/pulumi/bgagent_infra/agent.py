"""The agent's task definition: one Fargate task per coding task, started by the dispatcher (or, in warm mode,
waiting idle in the warm agents' service for a session)."""

from __future__ import annotations

import dataclasses
import json

import pulumi
import pulumi_aws as aws

from bgagent_infra.account import Account
from bgagent_infra.config import StackConfig
from bgagent_infra.containers import container, task_plumbing
from bgagent_infra.environment import AGENT_CONTAINER, EnvRefs, agent_environment, secret_variables
from bgagent_infra.identity import Identity
from bgagent_infra.roles import role_with_policy
from shared.topology.names import ResourceNames
from shared.topology.policies import Refs, task_role_policy


def _in_cluster(refs: Refs, stack: str) -> Refs:
    """The agent's refs name the cluster (it is created after the agent, under the stack's name)."""
    return dataclasses.replace(refs, cluster_arn=refs.account.arn("ecs", f"cluster/{stack}"), cluster_name=stack)


class Agent(pulumi.ComponentResource):
    """Image repository, log group, task and execution roles, and the task definition of the agent."""

    def __init__(self, name: str, config: StackConfig, account: pulumi.Output[Account], refs: pulumi.Output[Refs],
                 identity: Identity, sessions: aws.sqs.Queue | None = None,
                 opts: pulumi.ResourceOptions | None = None):
        super().__init__("bgagent:infra:Agent", name, None, opts)
        stack = config.stack_name
        injected = secret_variables("agent", set(identity.secrets))
        plumbing = task_plumbing(name, "agent", config=config, account=account, parent=self,
                                 injected_secret_arns=[identity.secrets[s].arn for s in injected.values()])
        self.execution_role = plumbing.execution_role
        self.task_role = role_with_policy(f"{name}-task", role_name=f"{stack}-agent-task",
                                          principal="ecs-tasks.amazonaws.com", account=account,
                                          policy=refs.apply(lambda r: task_role_policy("agent", _in_cluster(r, stack),
                                                                                       xray=False)),
                                          parent=self)
        secret_names = list(injected.values())
        definitions = pulumi.Output.all(
            account, plumbing.image, plumbing.log_group.name, sessions.url if sessions else "",
            *[identity.secrets[s].arn for s in secret_names],
        ).apply(lambda a: json.dumps([container(
            AGENT_CONTAINER, image=a[1], log_group=a[2], region=a[0].region, memory=config.agent.memory,
            environment=agent_environment(config, EnvRefs(region=a[0].region, sessions_queue_url=a[3])),
            secrets={var: a[4 + secret_names.index(s)] for var, s in injected.items()},
            stop_timeout=60,  # time to record the result after StopTask
            command=["--warm"] if sessions else None,  # the service's agents; RunTask overrides it anyway
        )]))
        self.task_definition = aws.ecs.TaskDefinition(
            f"{name}-task", family=ResourceNames(stack).agent_task_family, cpu=str(config.agent.cpu),
            memory=str(config.agent.memory),
            network_mode="awsvpc", requires_compatibilities=["FARGATE"],
            runtime_platform={"operating_system_family": "LINUX", "cpu_architecture": "X86_64"},
            ephemeral_storage={"size_in_gib": config.agent.ephemeral_storage_gib},
            execution_role_arn=self.execution_role.arn, task_role_arn=self.task_role.arn,
            container_definitions=definitions, opts=pulumi.ResourceOptions(parent=self))
        self.repository = plumbing.repository
        self.register_outputs({"task_definition": self.task_definition.arn})
