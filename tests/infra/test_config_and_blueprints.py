"""Stack config is typed and checked before anything deploys; blueprints write rows the services can read."""

from __future__ import annotations

import json
import sys

import pytest
from pydantic import ValidationError

from bgagent_infra.blueprint import repo_item
from bgagent_infra.config import BlueprintConfig, StackConfig, load_config
from bgagent_infra.environment import EnvRefs, service_environment
from shared.aws.dynamo import from_item
from shared.engines import TASK_ENGINES
from shared.llm.catalog import DEFAULT_MODEL_ID
from shared.repos.models import RepoConfig
from tests.infra.conftest import PROGRAM_DIR, STACK_NAME, sample_config


def test_the_sample_config_loads_through_pulumi_config(deployed):
    config = load_config()
    assert config.stack_name == STACK_NAME
    assert config.size("gateway").desired_count == 2
    assert [b.repo for b in config.blueprints] == ["acme/webapp", "acme/infra-tools"]


def test_stack_name_defaults_to_the_pulumi_stack(deployed):
    import pulumi

    raw = {k: v for k, v in sample_config().items() if k != "bgagent:stackName"}
    pulumi.runtime.set_all_config(raw)
    try:
        assert load_config().stack_name == "bgagent-dev"
    finally:
        pulumi.runtime.set_all_config(sample_config())


@pytest.mark.parametrize("change,message", [
    ({"natGateways": 3, "availabilityZones": 2}, "natGateways"),
    ({"modelProvider": "bedrock"}, "bedrockModelArns"),
    ({"services": {"webhooker": {}}}, "unknown services"),
    ({"logRetentionDays": 42}, "logRetentionDays"),
    ({"stackName": "Acme_Dev"}, "stackName"),
    ({"services": {"hydrator": {"minCount": 3, "desiredCount": 1}}}, "minCount"),
    ({"blueprints": [{"repo": "a/b"}, {"repo": "a/b"}]}, "two blueprints"),
    ({"bogusKey": 1}, "bogusKey"),
    ({"defaultModelId": "claude-sonnet-4-5"}, "defaultModelId: model 'claude-sonnet-4-5' reached its end of life"),
    ({"defaultModelId": "house-model"}, "defaultModelId: unknown model 'house-model'"),
    ({"blueprints": [{"repo": "a/b", "modelId": "claude-opus-4-0"}]}, "blueprint a/b modelId: .*end of life"),
    ({"defaultEngine": "oracle"}, "native, claude-code"),
    ({"blueprints": [{"repo": "a/b", "engine": "gpt"}]}, "engine must be one of: native, claude-code"),
    ({"agentEngines": ["native"], "defaultEngine": "claude-code"}, "defaultEngine: claude-code is not in agentEngines"),
    ({"agentEngines": ["native"], "blueprints": [{"repo": "a/b", "engine": "claude-code"}]},
     "blueprint a/b engine: claude-code is not in agentEngines"),
    ({"blueprints": [{"repo": "a/b", "mcpServers": {"docs": {"type": "sse"}}}]}, "(?s)mcpServers.docs.*needs a url"),
])
def test_invalid_config_is_refused_with_a_reason(change, message):
    with pytest.raises(ValidationError, match=message):
        StackConfig.model_validate({"stackName": "acme-dev", **change})


def test_blueprints_write_repo_rows_that_repo_config_accepts(deployed):
    items = deployed.of_type("aws:dynamodb/tableItem:TableItem")
    assert len(items) == 2
    rows = {}
    for item in items:
        assert item.inputs["tableName"] == f"{STACK_NAME}-repos"
        assert item.inputs["hashKey"] == "repo"
        config = RepoConfig.model_validate(from_item(json.loads(item.inputs["item"])))
        rows[config.repo] = config
    webapp, tools = rows["acme/webapp"], rows["acme/infra-tools"]
    assert (webapp.status, webapp.git_host) == ("active", "github")
    assert (webapp.test_command, webapp.setup_command, webapp.max_turns, webapp.max_budget_usd) == (
        "pytest -q", "pip install -e .[test]", 80, 5.0)
    assert tools.model_id == "claude-opus-5-5"
    assert webapp.engine is None and tools.engine == "claude-code"
    assert tools.mcp_servers["docs"].command == "docs-mcp" and tools.mcp_servers["docs"].args == ["--stdio"]
    assert tools.github_token_secret == f"bgagent/{STACK_NAME}/github/acme-infra-tools"


def test_the_default_model_is_the_catalogs():
    assert StackConfig(stack_name="acme-dev").default_model_id == DEFAULT_MODEL_ID


def test_operator_prices_admit_models_the_catalog_lacks_and_reach_the_services():
    config = StackConfig.model_validate({
        "stackName": "acme-dev", "defaultModelId": "house-model",
        "modelPrices": {"house-model": {"input": 1, "output": 2}},
        "blueprints": [{"repo": "a/b", "modelId": "ft-model", "modelPrices": {"ft-model": {"input": 3, "output": 9}}}]})
    env = service_environment("gateway", config, EnvRefs(region="us-east-1"))
    assert env["BGAGENT_DEFAULT_MODEL_ID"] == "house-model"
    assert json.loads(env["BGAGENT_MODEL_PRICES"])["house-model"]["input"] == 1
    row = RepoConfig.model_validate(from_item(repo_item(config.blueprints[0])))
    assert row.model_prices and row.model_prices["ft-model"].output == 9


def test_the_default_engine_and_the_agent_images_engines_reach_the_gateway_and_hydrator():
    default = StackConfig(stack_name="acme-dev")
    assert default.default_engine == "native" and default.agent_engines == list(TASK_ENGINES)
    config = StackConfig.model_validate({"stackName": "acme-dev", "defaultEngine": "claude-code"})
    for service in ("gateway", "hydrator"):
        env = service_environment(service, config, EnvRefs(region="us-east-1"))
        assert env["BGAGENT_DEFAULT_ENGINE"] == "claude-code"
        assert json.loads(env["BGAGENT_AGENT_ENGINES"]) == ["native", "claude-code"]


def test_every_blueprint_field_is_a_repo_config_attribute():
    assert set(BlueprintConfig.model_fields) <= set(RepoConfig.model_fields)
    full = BlueprintConfig(repo="acme/svc", model_id="m", max_turns=10, max_budget_usd=1.5,
                           system_prompt_overrides="be brief", setup_command="make", test_command="make test",
                           github_token_secret="bgagent/x/github/svc", compute_type="ecs",
                           egress_allowlist=["pypi.org"], pr_tasks="any_user", engine="claude-code",
                           mcp_servers={"docs": {"command": "docs-mcp"}})
    row = RepoConfig.model_validate(from_item(repo_item(full)))
    assert row.model_dump(include=set(BlueprintConfig.model_fields)) == full.model_dump()


def test_a_blueprint_for_an_invalid_repo_fails_before_deploying():
    with pytest.raises(ValidationError):
        repo_item(BlueprintConfig(repo="not a repo"))


def test_nothing_in_the_repo_imports_as_a_top_level_pulumi_module():
    import pulumi

    assert not (PROGRAM_DIR / "__init__.py").exists()
    assert "site-packages" in pulumi.__file__
    assert str(PROGRAM_DIR.parent) not in sys.path
