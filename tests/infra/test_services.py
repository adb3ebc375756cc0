"""ECS: one Fargate service per service, the agent task definition, their environments, the ALB, scaling."""

from __future__ import annotations

import pytest

from shared.topology.definition import build_topology
from shared.topology.names import ResourceNames
from tests.infra.conftest import ACCOUNT, REGION, STACK_NAME, container_definitions, task_definition
from tests.infra.settings_env import accepted_variables, settings_class

S = STACK_NAME
SERVICES = ("gateway", "hydrator", "dispatcher", "finalizer", "reconciler")
TOPOLOGY = build_topology(ResourceNames(S))
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{REGION}_AbCdEf123"


def _app(deployed, component: str) -> dict:
    return next(c for c in container_definitions(deployed, f"{S}-{component}") if c["name"] == component)


def _env(container: dict) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container["environment"]}


def _ids(deployed, typ: str, prefix: str) -> list[str]:
    return [f"{r.name}-id" for r in deployed.of_type(typ) if r.name.startswith(prefix)]


def test_one_fargate_service_per_service_in_private_subnets(deployed):
    services = {s.inputs["name"]: s for s in deployed.of_type("aws:ecs/service:Service")}
    assert set(services) == set(SERVICES)
    private = _ids(deployed, "aws:ec2/subnet:Subnet", "network-private-")
    for name, service in services.items():
        assert service.inputs["launchType"] == "FARGATE"
        network = service.inputs["networkConfiguration"]
        assert network["subnets"] == private and network["assignPublicIp"] is False
        assert service.inputs["taskDefinition"].endswith(f"task-definition/{S}-{name}:1")


@pytest.mark.parametrize("component", [*SERVICES, "agent"])
def test_environment_names_are_fields_of_the_components_settings(deployed, component):
    container = _app(deployed, component)
    accepted = accepted_variables(component)
    names = set(_env(container)) | {s["name"] for s in container["secrets"]}
    assert names <= accepted, f"not read by {component}'s settings: {sorted(names - accepted)}"


@pytest.mark.parametrize("component", [*SERVICES, "agent"])
def test_the_components_settings_load_from_its_environment(deployed, component, monkeypatch):
    for name in accepted_variables(component):
        monkeypatch.delenv(name, raising=False)
    env = _env(_app(deployed, component))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = settings_class(component)()
    assert (settings.stack_name, settings.aws_region) == (S, REGION)
    if component in ("dispatcher", "reconciler"):
        assert settings.compute_type == "ecs"


@pytest.mark.parametrize("component", SERVICES)
def test_services_trace_through_their_xray_sidecar(deployed, component):
    containers = {c["name"]: c for c in container_definitions(deployed, f"{S}-{component}")}
    sidecar = containers["xray-daemon"]
    assert sidecar["portMappings"] == [{"containerPort": 2000, "protocol": "udp"}]
    assert _env(containers[component])["AWS_XRAY_DAEMON_ADDRESS"] == "127.0.0.1:2000"
    task = task_definition(deployed, f"{S}-{component}")
    assert sum(c["memory"] for c in containers.values()) == int(task.inputs["memory"])


def test_gateway_verifies_cognito_tokens_and_listens_for_the_alb(deployed):
    env = _env(_app(deployed, "gateway"))
    (client,) = deployed.of_type("aws:cognito/userPoolClient:UserPoolClient")
    assert env["BGAGENT_JWT_ISSUER"] == ISSUER
    assert env["BGAGENT_JWKS_URL"] == f"{ISSUER}/.well-known/jwks.json"
    assert env["BGAGENT_JWT_AUDIENCE"] == "4tnbk1q7d2example0client0id"
    assert "ALLOW_USER_PASSWORD_AUTH" in client.inputs["explicitAuthFlows"]
    assert client.inputs["generateSecret"] is False
    assert (env["BGAGENT_HOST"], env["BGAGENT_PORT"]) == ("0.0.0.0", "8080")
    assert env["BGAGENT_PUBLIC_URL"] == deployed.outputs["api_url"]


def test_dispatcher_and_reconciler_can_drive_agent_tasks_on_ecs(deployed):
    agent_sg = _ids(deployed, "aws:ec2/securityGroup:SecurityGroup", "network-agent")
    for component in ("dispatcher", "reconciler"):
        env = _env(_app(deployed, component))
        assert env["BGAGENT_ECS_CLUSTER"] == f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/{S}"
        assert env["BGAGENT_ECS_TASK_DEFINITION"] == deployed.outputs["agent_task_definition"]
        assert env["BGAGENT_ECS_SUBNETS"].split(",") == _ids(deployed, "aws:ec2/subnet:Subnet", "network-private-")
        assert env["BGAGENT_ECS_SECURITY_GROUPS"].split(",") == agent_sg
        assert env["BGAGENT_ECS_CONTAINER_NAME"] == "agent"


def test_agent_task_definition(deployed):
    task = task_definition(deployed, f"{S}-agent")
    (agent,) = container_definitions(deployed, f"{S}-agent")
    assert agent["name"] == "agent" and agent["memory"] == 4096
    assert task.inputs["taskRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/{S}-agent-task"
    assert task.inputs["executionRoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/{S}-agent-exec"
    assert task.inputs["requiresCompatibilities"] == ["FARGATE"] and task.inputs["networkMode"] == "awsvpc"
    assert _env(agent)["BGAGENT_MODEL_PROVIDER"] == "anthropic"


@pytest.mark.parametrize("component,variables", [
    ("gateway", set()), ("dispatcher", set()), ("reconciler", set()),
    ("hydrator", {"BGAGENT_GITHUB_TOKEN"}), ("finalizer", {"BGAGENT_GITHUB_TOKEN"}),
    ("agent", {"BGAGENT_GITHUB_TOKEN", "ANTHROPIC_API_KEY"}),
])
def test_secrets_are_injected_from_secrets_manager_never_as_values(deployed, component, variables):
    container = _app(deployed, component)
    secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    assert set(secrets) == variables
    assert all(v.startswith(f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:bgagent/{S}/") for v in secrets.values())
    assert not variables & set(_env(container))


def test_gateway_sits_behind_the_alb_health_checked_on_healthz(deployed):
    (group,) = deployed.of_type("aws:lb/targetGroup:TargetGroup")
    (listener,) = deployed.of_type("aws:lb/listener:Listener")
    (gateway,) = [s for s in deployed.of_type("aws:ecs/service:Service") if s.inputs["name"] == "gateway"]
    assert group.inputs["healthCheck"]["path"] == "/healthz"
    assert (group.inputs["port"], group.inputs["targetType"]) == (8080, "ip")
    assert listener.inputs["defaultActions"][0]["targetGroupArn"] == group.outputs["arn"]
    assert gateway.inputs["loadBalancers"] == [
        {"containerName": "gateway", "containerPort": 8080, "targetGroupArn": group.outputs["arn"]}]
    assert _app(deployed, "gateway")["portMappings"] == [{"containerPort": 8080, "protocol": "tcp"}]


def test_one_image_repository_per_image_and_tasks_run_the_configured_tag(deployed):
    repos = {r.inputs["name"] for r in deployed.of_type("aws:ecr/repository:Repository")}
    assert repos == {f"{S}/{image}" for image in (*SERVICES, "agent")}
    for component in (*SERVICES, "agent"):
        assert _app(deployed, component)["image"] == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{S}/{component}:0.1.0"


def test_every_container_logs_to_its_own_group_with_the_configured_retention(deployed):
    groups = {g.inputs["name"]: g.inputs["retentionInDays"]
              for g in deployed.of_type("aws:cloudwatch/logGroup:LogGroup")}
    assert groups == {f"/bgagent/{S}/{image}": 30 for image in (*SERVICES, "agent")}
    for component in (*SERVICES, "agent"):
        for container in container_definitions(deployed, f"{S}-{component}"):
            options = container["logConfiguration"]["options"]
            assert options["awslogs-group"] == f"/bgagent/{S}/{component}"


def test_workers_scale_on_their_queue_depth(deployed):
    alarms = [a for a in deployed.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") if "backlog-high" in a.name]
    policies = {p.outputs["arn"]: p for p in deployed.of_type("aws:appautoscaling/policy:Policy")}
    scaled = {}
    for alarm in alarms:
        metric = (alarm.inputs["namespace"], alarm.inputs["metricName"])
        assert metric == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
        (policy_arn,) = alarm.inputs["alarmActions"]
        scaled[alarm.inputs["dimensions"]["QueueName"]] = policies[policy_arn].inputs["resourceId"]
    assert scaled == {TOPOLOGY.queue_for(s).name: f"service/{S}/{s}" for s in ("hydrator", "dispatcher", "finalizer")}
    targets = {t.inputs["resourceId"] for t in deployed.of_type("aws:appautoscaling/target:Target")}
    assert targets == {f"service/{S}/{s}" for s in ("gateway", "hydrator", "dispatcher", "finalizer")}


def test_network_has_the_configured_nat_count_and_private_routes_through_it(deployed):
    nats = deployed.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == 1
    private_routes = [r for r in deployed.of_type("aws:ec2/routeTable:RouteTable") if "private" in r.name]
    assert len(private_routes) == 2
    assert all(r.inputs["routes"][0]["natGatewayId"] == f"{nats[0].name}-id" for r in private_routes)


def test_stack_outputs(deployed):
    out = deployed.outputs
    assert out["api_url"].startswith("http://") and out["dashboard_url"].startswith("https://")
    assert out["user_pool_id"] == f"{REGION}_AbCdEf123"
    assert out["user_pool_client_id"] == "4tnbk1q7d2example0client0id"
    assert out["table_names"] == {t.logical: t.name for t in TOPOLOGY.tables}
    assert out["queue_urls"] == {q.service: f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{q.name}"
                                 for q in TOPOLOGY.queues}
    assert out["event_bus_name"] == TOPOLOGY.bus_name
    assert out["artifacts_bucket"] == TOPOLOGY.bucket_name
