"""A task that names a registered model endpoint: its relay forwards to that endpoint with the endpoint's key,
read from the secrets store by the runtime; the deployment's provider and key are not used, and neither key
reaches the conversation."""

from __future__ import annotations

import uuid

from agent.bootstrap import run_agent
from shared.llm.endpoints import EndpointRef
from tests.agent.conftest import ANTHROPIC_KEY, AgentWorld
from tests.doubles import FakeAnthropic
from tests.doubles.scenarios import FAKE_EDIT, install_default_scenarios

ENDPOINT_KEY = "sk-endpoint-key-for-a-trained-model-0001"


async def test_a_task_naming_a_model_endpoint_calls_that_endpoint_with_its_own_key(world: AgentWorld) -> None:
    trained = install_default_scenarios(FakeAnthropic(api_key=ENDPOINT_KEY))
    secret = f"bgagent/test/endpoints/{uuid.uuid4().hex[:8]}"
    world.stack.boto("secretsmanager").create_secret(Name=secret, SecretString=ENDPOINT_KEY)
    with trained.serve() as url:
        task = await world.seed(model_id=FAKE_EDIT, model_endpoint=EndpointRef(name="trained", base_url=url,
                                                                                key_secret=secret))
        report = await run_agent(world.settings(task.task_id))
    assert report.exit_code == 0, report.error
    assert trained.requests_for(FAKE_EDIT) and world.anthropic.requests_for(FAKE_EDIT) == []
    assert all(r["headers"].get("x-api-key") == ENDPOINT_KEY for r in trained.requests_for(FAKE_EDIT))
    sent = repr([r["messages"] for r in trained.requests_for(FAKE_EDIT)])
    assert ENDPOINT_KEY not in sent and ANTHROPIC_KEY not in sent


async def test_a_model_endpoint_whose_key_is_gone_fails_the_task_readably(world: AgentWorld) -> None:
    task = await world.seed(model_id=FAKE_EDIT, model_endpoint=EndpointRef(
        name="gone", base_url="http://127.0.0.1:9", key_secret=f"bgagent/test/endpoints/missing-{uuid.uuid4().hex}"))
    report = await run_agent(world.settings(task.task_id))
    row = await world.task(task.task_id)
    assert report.exit_code == 1 and row.error_code == "MODEL_AUTH"
    assert "model endpoint 'gone'" in (row.error_message or "") and world.anthropic.requests_for(FAKE_EDIT) == []
