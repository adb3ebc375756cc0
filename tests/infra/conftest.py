"""Runs the Pulumi program once against mocks that record every resource with realistic ids and ARNs."""

from __future__ import annotations

import asyncio
import json
import runpy
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROGRAM_DIR = ROOT / "infra" / "pulumi"
# The program's package, never infra/ itself: nothing may import as a top-level `pulumi` from the repo.
if str(PROGRAM_DIR) not in sys.path:
    sys.path.insert(0, str(PROGRAM_DIR))

import pulumi  # noqa: E402

ACCOUNT, REGION = "123456789012", "us-east-1"
STACK_NAME = "acme-bgagent-dev"
BEDROCK_ARN = "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-5-5"


def _arn(service: str, resource: str, *, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:{service}:{region}:{account}:{resource}"


def _computed(typ: str, name: str, inputs: dict) -> tuple[str, dict]:
    """The id and computed outputs AWS would return for a resource."""
    n = inputs.get("name") or name
    out: dict = {"name": n}
    rid = f"{n}-id"
    if typ == "aws:dynamodb/table:Table":
        out["arn"] = _arn("dynamodb", f"table/{n}")
        rid = n
    elif typ == "aws:sqs/queue:Queue":
        out["arn"] = _arn("sqs", n)
        out["url"] = rid = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{n}"
    elif typ == "aws:cloudwatch/eventBus:EventBus":
        out["arn"] = _arn("events", f"event-bus/{n}")
    elif typ == "aws:cloudwatch/eventRule:EventRule":
        bus = inputs.get("eventBusName", "default")
        out["arn"] = _arn("events", f"rule/{n}" if bus == "default" else f"rule/{bus}/{n}")
    elif typ == "aws:s3/bucket:Bucket":
        out.update(arn=f"arn:aws:s3:::{inputs['bucket']}", bucket=inputs["bucket"])
        rid = inputs["bucket"]
    elif typ == "aws:secretsmanager/secret:Secret":
        out["arn"] = rid = _arn("secretsmanager", f"secret:{n}-AbC123")
    elif typ == "aws:iam/role:Role":
        out["arn"] = f"arn:aws:iam::{ACCOUNT}:role/{n}"
        rid = n
    elif typ == "aws:ecs/cluster:Cluster":
        out["arn"] = rid = _arn("ecs", f"cluster/{n}")
    elif typ == "aws:ecs/taskDefinition:TaskDefinition":
        out["arn"] = rid = _arn("ecs", f"task-definition/{inputs['family']}:1")
        out["arnWithoutRevision"] = _arn("ecs", f"task-definition/{inputs['family']}")
    elif typ == "aws:ecr/repository:Repository":
        out.update(arn=_arn("ecr", f"repository/{n}"),
                   repositoryUrl=f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{n}")
    elif typ == "aws:cloudwatch/logGroup:LogGroup":
        out["arn"] = _arn("logs", f"log-group:{n}")
    elif typ in ("aws:lb/loadBalancer:LoadBalancer", "aws:lb/targetGroup:TargetGroup"):
        kind = "loadbalancer/app" if "loadBalancer" in typ else "targetgroup"
        out.update(arn=_arn("elasticloadbalancing", f"{kind}/{n}/50dc6c495c0c9188"),
                   arnSuffix=f"{kind.split('/')[-1]}/{n}/50dc6c495c0c9188",
                   dnsName=f"{n}-1234567890.{REGION}.elb.amazonaws.com")
        rid = out["arn"]
    elif typ == "aws:cognito/userPool:UserPool":
        rid = f"{REGION}_AbCdEf123"
        out.update(arn=_arn("cognito-idp", f"userpool/{rid}"), endpoint=f"cognito-idp.{REGION}.amazonaws.com/{rid}")
    elif typ == "aws:cognito/userPoolClient:UserPoolClient":
        rid = "4tnbk1q7d2example0client0id"
    elif typ == "aws:sns/topic:Topic":
        out["arn"] = rid = _arn("sns", n)
    elif typ == "aws:appautoscaling/policy:Policy":
        out["arn"] = _arn("autoscaling", f"scalingPolicy:{name}")
    elif typ == "aws:scheduler/schedule:Schedule":
        out["arn"] = _arn("scheduler", f"schedule/default/{n}")
    elif typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
        out["arn"] = _arn("cloudwatch", f"alarm:{n}")
    return rid, out


@dataclass
class Recorded:
    typ: str
    name: str
    inputs: dict
    outputs: dict


@dataclass
class RecordingMocks(pulumi.runtime.Mocks):
    resources: list[Recorded] = field(default_factory=list)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        rid, computed = _computed(args.typ, args.name, args.inputs)
        state = {**args.inputs, **computed}
        self.resources.append(Recorded(args.typ, args.name, dict(args.inputs), state))
        return rid, state

    def call(self, args: pulumi.runtime.MockCallArgs):
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT, "arn": f"arn:aws:iam::{ACCOUNT}:user/deployer", "userId": "AIDAEXAMPLE",
                    "id": ACCOUNT}
        if token == "aws:index/getRegion:getRegion":
            return {"region": REGION, "name": REGION, "id": REGION, "endpoint": f"ec2.{REGION}.amazonaws.com",
                    "description": "US East (N. Virginia)"}
        if token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws",
                    "reverseDnsPrefix": "com.amazonaws"}
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            return {"names": [f"{REGION}a", f"{REGION}b", f"{REGION}c"],
                    "zoneIds": ["use1-az1", "use1-az2", "use1-az4"],
                    "id": REGION}
        raise NotImplementedError(f"no mock for {token}")


@dataclass
class Deployed:
    """Every resource the program registered, and the stack's outputs, fully resolved."""

    resources: list[Recorded]
    outputs: dict

    def of_type(self, typ: str) -> list[Recorded]:
        return [r for r in self.resources if r.typ == typ]

    def named(self, typ: str, name: str) -> Recorded:
        (found,) = [r for r in self.of_type(typ) if r.name == name]
        return found


def sample_config() -> dict[str, str]:
    """The sample stack config (Pulumi.dev.yaml) as the engine hands it to the program, plus Bedrock models."""
    config = yaml.safe_load((PROGRAM_DIR / "Pulumi.dev.yaml").read_text())["config"]
    config["bgagent:bedrockModelArns"] = [BEDROCK_ARN]
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def _resolve(value):
    """Wait for every Output nested in an export."""
    if isinstance(value, pulumi.Output):
        return value.apply(_resolve)
    if isinstance(value, dict):
        return pulumi.Output.all(**{k: _resolve(v) for k, v in value.items()})
    return value


def deploy(config: dict[str, str]) -> Deployed:
    """Run infra/pulumi/__main__.py once with this stack config, against preview=False mocks."""
    mocks = RecordingMocks()
    # Pulumi's mocks need a current event loop; async tests that ran before may have closed theirs.
    asyncio.set_event_loop(asyncio.new_event_loop())
    pulumi.runtime.set_mocks(mocks, project="bgagent", stack="dev", preview=False)
    pulumi.runtime.set_all_config(config)
    outputs: dict = {}

    @pulumi.runtime.test
    def run():
        runpy.run_path(str(PROGRAM_DIR / "__main__.py"), run_name="__main__")
        exported = pulumi.runtime.get_root_resource().outputs
        return pulumi.Output.all(**{k: _resolve(v) for k, v in exported.items()}).apply(outputs.update)

    run()
    return Deployed(mocks.resources, outputs)


@pytest.fixture(scope="session")
def deployed() -> Deployed:
    """The program with the sample config (Pulumi.dev.yaml): RunTask per task."""
    return deploy(sample_config())


WARM_CONFIG = {"bgagent:ecsMode": "warm", "bgagent:warmCapacity": json.dumps({"minIdle": 3, "maxAgents": 12})}


@pytest.fixture(scope="session")
def deployed_warm() -> Deployed:
    """The program with the sample config in warm mode: idle agents take sessions from a queue."""
    return deploy({**sample_config(), **WARM_CONFIG})


def role_policy(deployed: Deployed, role_name: str) -> dict:
    """The parsed inline policy of the role called `role_name`."""
    (policy,) = [r for r in deployed.of_type("aws:iam/rolePolicy:RolePolicy") if r.inputs["role"] == role_name]
    return json.loads(policy.inputs["policy"])


def container_definitions(deployed: Deployed, family: str) -> list[dict]:
    """The parsed container definitions of the task definition family."""
    (task,) = [t for t in deployed.of_type("aws:ecs/taskDefinition:TaskDefinition") if t.inputs["family"] == family]
    return json.loads(task.inputs["containerDefinitions"])


def task_definition(deployed: Deployed, family: str) -> Recorded:
    (task,) = [t for t in deployed.of_type("aws:ecs/taskDefinition:TaskDefinition") if t.inputs["family"] == family]
    return task
