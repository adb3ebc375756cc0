"""A task naming a model endpoint: the context carries where to send calls and which secret holds the key."""

from services.hydrator.handlers import Hydrator
from services.hydrator.settings import HydratorSettings
from shared.events.models import TaskSubmitted
from shared.llm.endpoints import ModelEndpoint
from shared.llm.prices import PriceBand
from shared.repos.models import RepoConfig
from shared.tasks.models import Task
from shared.tasks.states import TaskStatus as S
from tests.fakes.collaborators import FakeGitHost, InMemoryContexts, InMemoryRepos, RecordingBus
from tests.fakes.evals import InMemoryEndpoints
from tests.fakes.tasks import InMemoryTaskStore


async def test_the_endpoint_reaches_the_context_with_its_price_and_an_unknown_one_fails_the_task():
    store, git, contexts, endpoints = InMemoryTaskStore(), FakeGitHost(), InMemoryContexts(), InMemoryEndpoints()
    git.add_repo("acme/app")
    hydrator = Hydrator(store, InMemoryRepos(RepoConfig(repo="acme/app")), git, contexts, RecordingBus(),
                        HydratorSettings(default_model_id="claude-opus-5-5", default_max_concurrency=10),
                        endpoints=endpoints)
    await endpoints.create(ModelEndpoint(name="rl", base_url="https://rl.example.com", created_by="ops",
                                         key_secret="bgagent/s/endpoints/rl", price=PriceBand(input=2, output=3)))
    await endpoints.create(ModelEndpoint(name="free", base_url="https://f.example.com", created_by="ops",
                                         key_secret="bgagent/s/endpoints/free"))

    async def submit(**fields) -> Task:
        task = await store.create(Task.new(user_id="u", repo="acme/app", task_description="x", **fields))
        await hydrator.on_submitted(TaskSubmitted(task_id=task.task_id, user_id="u"))
        return await store.get(task.task_id)

    priced = await submit(model_id="my-finetune", model_endpoint="rl")
    ctx = contexts.items[priced.context_key]
    assert ctx.model_endpoint.base_url == "https://rl.example.com"
    assert ctx.model_endpoint.key_secret == "bgagent/s/endpoints/rl"
    assert (ctx.model_price.input, ctx.model_price.output) == (2, 3)
    free = contexts.items[(await submit(model_id="my-finetune", model_endpoint="free")).context_key]
    assert free.model_price.input < 1e-6  # no price and no catalog entry: practically free
    known = contexts.items[(await submit(model_endpoint="free")).context_key]
    assert known.model_price.input > 1  # the catalog knows the platform's model
    assert contexts.items[(await submit()).context_key].model_endpoint is None
    gone = await submit(model_endpoint="removed")
    assert gone.status == S.FAILED and gone.error_code == "MODEL_UNAVAILABLE" and "removed" in gone.error_message
