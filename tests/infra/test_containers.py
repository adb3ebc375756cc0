"""Static checks of the LocalStack compose file and the Dockerfiles (no Docker daemon needed)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bgagent_infra.config import StackConfig
from shared.observability.redaction import redact
from tests.infra.settings_env import LIBRARY_VARIABLES, accepted_variables, settings_class

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.localstack.yml"
SERVICES = ("gateway", "hydrator", "dispatcher", "finalizer", "reconciler")
# Which settings read each compose service's environment. The dispatcher's agents inherit its
# environment (compute type `process`), so it may also carry what the agent's settings read.
READERS = {"init": ("topology",), "ticker": ("topology",), "dispatcher": ("dispatcher", "agent"),
           **{s: (s,) for s in SERVICES if s != "dispatcher"}}
# LocalStack accepts any credentials; these documented dummies are the only literal "secrets" allowed.
LOCALSTACK_DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|API_KEY|ACCESS_KEY")
INTERPOLATION = re.compile(r"^\$\{(?P<name>[A-Z0-9_]+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}$")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def _resolve(value: object) -> str:
    """A compose value with `${VAR:-default}` interpolation resolved as if VAR were unset."""
    match = INTERPOLATION.match(str(value))
    if not match:
        return str(value)
    return match["arg"] if match["op"] in (":-", "-") else "set-by-the-user"


def _module(service: dict) -> str:
    argv = service.get("command") or service.get("entrypoint")
    assert argv[:2] == ["python", "-m"], argv
    return argv[2]


def _module_file(module: str) -> Path:
    return ROOT / Path(*module.split(".")) / "__main__.py"


def test_the_platform_services_run_their_own_entrypoints(compose):
    services = compose["services"]
    assert set(services) == {"localstack", "init", "ticker", *SERVICES}
    for name in SERVICES:
        assert _module(services[name]) == f"services.{name}"
    for name, service in services.items():
        if name != "localstack":
            assert _module_file(_module(service)).is_file(), name


@pytest.mark.parametrize("name", list(READERS))
def test_environment_names_are_settings_fields_and_load(compose, name, monkeypatch):
    env = compose["services"][name]["environment"]
    accepted = set().union(*(accepted_variables(r) for r in READERS[name])) | LIBRARY_VARIABLES
    assert set(env) <= accepted, f"{name}: read by no settings: {sorted(set(env) - accepted)}"
    for variable in accepted:
        monkeypatch.delenv(variable, raising=False)
    for variable, value in env.items():
        monkeypatch.setenv(variable, _resolve(value))
    settings = settings_class(READERS[name][0])()
    assert (settings.stack_name, settings.aws_endpoint_url) == ("bgagent", "http://localstack:4566")


def test_localstack_auth_token_is_passed_through_never_written(compose):
    localstack = compose["services"]["localstack"]["environment"]
    match = INTERPOLATION.match(localstack["LOCALSTACK_AUTH_TOKEN"])
    assert match and match["name"] == "LOCALSTACK_AUTH_TOKEN"
    assert match["op"] in (None, ":?", "?"), "no default token: an unset one must fail loudly"
    wanted = {"dynamodb", "sqs", "events", "s3", "secretsmanager", "ecs", "iam", "logs"}
    assert set(localstack["SERVICES"].split(",")) == wanted


def test_no_secret_value_is_hard_coded(compose):
    for name, service in compose["services"].items():
        for variable, value in (service.get("environment") or {}).items():
            if not SECRET_NAME.search(variable):
                continue
            if variable in LOCALSTACK_DUMMY_CREDENTIALS:
                assert value == LOCALSTACK_DUMMY_CREDENTIALS[variable]
                continue
            match = INTERPOLATION.match(str(value))
            assert match and match["name"] == variable, f"{name}.{variable} must come from the environment"
            assert not match["arg"] or match["op"] in (":?", "?"), f"{name}.{variable} has a default value"
    assert redact(COMPOSE_FILE.read_text()) == COMPOSE_FILE.read_text()


def test_services_start_after_the_topology_exists(compose):
    services = compose["services"]
    assert services["init"]["depends_on"] == {"localstack": {"condition": "service_healthy"}}
    for name in (*SERVICES, "ticker"):
        assert services[name]["depends_on"]["init"] == {"condition": "service_completed_successfully"}


@pytest.mark.parametrize("name", ["gateway", "hydrator"])
def test_the_services_that_vet_an_engine_know_the_agent_images_engines(compose, name, monkeypatch):
    # Their image has only native; without the list they would refuse every claude-code task.
    env = compose["services"][name]["environment"]
    for variable, value in env.items():
        monkeypatch.setenv(variable, _resolve(value))
    settings = settings_class(READERS[name][0])()
    assert settings.agent_engines == ["native", "claude-code"] and settings.default_engine == "native"


def test_gateway_serves_8080_with_the_local_issuer_on_a_volume(compose):
    gateway = compose["services"]["gateway"]
    assert "127.0.0.1:8080:8080" in gateway["ports"]
    issuer_dir = gateway["environment"]["BGAGENT_LOCAL_ISSUER_DIR"]
    mounts = [v.split(":")[1] for v in gateway["volumes"]]
    assert any(issuer_dir == m or issuer_dir.startswith(m + "/") for m in mounts)


def test_agents_run_as_processes_of_the_dispatcher_which_the_reconciler_can_see(compose):
    dispatcher, reconciler = compose["services"]["dispatcher"], compose["services"]["reconciler"]
    assert dispatcher["build"]["dockerfile"] == "docker/agent.Dockerfile"  # git and build tools for the agents
    for service in (dispatcher, reconciler):
        assert service["environment"]["BGAGENT_COMPUTE_TYPE"] == "process"
    assert reconciler["environment"]["BGAGENT_RUNTIME_DIR"] == dispatcher["environment"]["BGAGENT_RUNTIME_DIR"]
    assert reconciler["pid"] == "service:dispatcher"
    assert set(reconciler["volumes"]) == set(dispatcher["volumes"])


def test_images_are_built_from_the_repo_or_pinned(compose):
    for name, service in compose["services"].items():
        if "build" in service:
            dockerfile = ROOT / service["build"]["dockerfile"]
            assert dockerfile.is_file()
            if "target" in service["build"]:
                assert service["build"]["target"] in _stages(dockerfile), name
        else:
            # The one documented exception: LocalStack's unified image, pinnable with LOCALSTACK_VERSION.
            assert name == "localstack"
            assert service["image"] == "localstack/localstack:${LOCALSTACK_VERSION:-latest}"


def test_docker_compose_config_accepts_the_file():
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "compose", "version"], capture_output=True).returncode != 0:
        pytest.skip("the docker compose plugin is not installed (static checks above still ran)")
    result = subprocess.run([docker, "compose", "-f", str(COMPOSE_FILE), "config", "-q"], capture_output=True,
                            text=True, env={"PATH": "/usr/bin:/bin:/usr/local/bin", "LOCALSTACK_AUTH_TOKEN": "x"})
    assert result.returncode == 0, result.stderr


# --- Dockerfiles -------------------------------------------------------------------------------------

def _instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    out, pending = [], ""
    for line in path.read_text().splitlines():
        if line.strip().startswith("#") and not pending:
            continue
        pending += line.rstrip("\\").strip() + " "
        if not line.rstrip().endswith("\\"):
            if pending.strip():
                keyword, _, args = pending.strip().partition(" ")
                out.append((keyword.upper(), args.strip()))
            pending = ""
    return out


def _stages(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Instructions by stage name (unnamed stages by index)."""
    stages: dict[str, list[tuple[str, str]]] = {}
    current = None
    for keyword, args in _instructions(path):
        if keyword == "FROM":
            parts = args.split()
            current = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else str(len(stages))
            stages[current] = []
        if current is not None:  # instructions before the first FROM are global ARGs
            stages[current].append((keyword, args))
    return stages


def _effective(stages: dict, stage: str, keyword: str) -> str | None:
    """The last `keyword` of a stage, following FROM <earlier stage> chains."""
    instructions = stages[stage]
    own = [args for k, args in instructions if k == keyword]
    if own:
        return own[-1]
    base = instructions[0][1].split()[0]
    return _effective(stages, base, keyword) if base in stages else None


DOCKERFILES = {"service": ROOT / "docker" / "service.Dockerfile", "agent": ROOT / "docker" / "agent.Dockerfile"}


@pytest.mark.parametrize("kind", list(DOCKERFILES))
def test_dockerfiles_run_as_a_non_root_user_from_pinned_slim_python(kind):
    path = DOCKERFILES[kind]
    stages = _stages(path)
    args = dict(a.split("=", 1) for k, a in _instructions(path) if k == "ARG" and "=" in a)
    for name, instructions in stages.items():
        image = instructions[0][1].split()[0]
        image = args.get(image.strip("${}"), image)
        assert image in stages or re.fullmatch(r"python:3\.11-slim(-\w+)?", image), image
        if any(k in ("CMD", "ENTRYPOINT") for k, _ in instructions) and kind != "agent":
            user = _effective(stages, name, "USER")
            assert user and user.split(":")[0] not in ("root", "0"), f"{kind}/{name} runs as root"


def test_the_agent_image_runs_commands_as_a_second_unprivileged_user():
    stages = _stages(DOCKERFILES["agent"])
    final = list(stages)[-1]
    installs = " ".join(a for k, a in stages[final] if k == "RUN")
    env = " ".join(a for k, a in stages[final] if k == "ENV")
    assert re.search(r"useradd --system --uid 10002 .*--shell /usr/sbin/nologin bgagent-cmd", installs)
    assert "BGAGENT_SANDBOX=two-user" in env and "BGAGENT_SANDBOX_COMMAND_UID=10002" in env
    # Root only to switch users: the runtime never runs a model's command itself.
    assert _effective(stages, final, "USER") == "root"


def test_the_agent_image_ships_both_engines_as_the_stack_config_says():
    stages = _stages(DOCKERFILES["agent"])
    installs = " ".join(a for k, a in stages["build"] if k == "RUN")
    assert "pip install '.[claude-code]'" in installs
    assert StackConfig(stack_name="acme-dev").agent_engines == ["native", "claude-code"]


def test_every_service_has_a_build_target_running_its_own_module():
    stages = _stages(DOCKERFILES["service"])
    for service in SERVICES:
        cmd = json.loads(_effective(stages, service, "CMD"))
        assert cmd == ["python", "-m", f"services.{service}"]
        assert _module_file(cmd[2]).is_file()
    health = _effective(stages, "gateway", "HEALTHCHECK")
    assert "/healthz" in health and "8080" in health
    assert all(_effective(stages, s, "HEALTHCHECK") is None for s in SERVICES if s != "gateway")


def test_agent_image_has_git_and_runs_the_agent():
    stages = _stages(DOCKERFILES["agent"])
    final = list(stages)[-1]
    assert json.loads(_effective(stages, final, "ENTRYPOINT")) == ["python", "-m", "agent"]
    assert _module_file("agent").is_file()
    installs = " ".join(a for k, a in stages[final] if k == "RUN")
    assert re.search(r"apt-get install[^&]*\bgit\b", installs)


@pytest.mark.parametrize("kind", list(DOCKERFILES))
def test_images_install_the_project_from_its_pyproject(kind):
    instructions = _instructions(DOCKERFILES[kind])
    copied = [a.split()[0] for k, a in instructions if k == "COPY" and not a.startswith("--from")]
    assert "pyproject.toml" in copied
    assert all((ROOT / c).exists() for c in copied)
    assert any(k == "RUN" and re.search(r"pip install '?\.(\[[a-z,-]+\]'|\s|$)", a) for k, a in instructions)
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {".git", ".venv", "tests"} <= ignored
    assert not ignored & set(copied), "a COPY source is excluded from the build context"
