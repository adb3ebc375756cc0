# syntax=docker/dockerfile:1
# The agent: `python -m agent --task-id ID` (the dispatcher's ECS RunTask passes `--task-id ID` as the
# command; with ecsMode warm the task definition's command is `--warm`: wait idle for one task). It clones, builds and tests arbitrary repositories, so it carries git and common build
# tools; add a repository's own toolchain with its setup command or a derived image.
#
#   docker build -f docker/agent.Dockerfile -t bgagent/agent .

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml ./
COPY shared ./shared
COPY services ./services
COPY agent ./agent
COPY cli ./cli
# Both engines: native, and claude-code (claude-agent-sdk with its bundled Claude Code CLI, ~430 MB), which
# runs as bgagent-cmd inside the sandbox. Pulumi's bgagent:agentEngines names what this image has.
RUN pip install '.[claude-code]'

FROM ${PYTHON_IMAGE}
RUN apt-get update \
 && apt-get install --yes --no-install-recommends \
      git openssh-client ca-certificates curl build-essential pkg-config make unzip nodejs npm \
 && rm -rf /var/lib/apt/lists/*
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
# Two users (the `two-user` sandbox; Fargate allows no namespaces, so bubblewrap cannot run there):
# the runtime holds the tokens and runs as root only so that it can drop each command the model
# causes to `bgagent-cmd`, which owns the task's workspace and nothing else, has no secret in its
# environment, and cannot read the runtime's /proc entries (the runtime makes itself non-dumpable).
RUN groupadd --system --gid 10001 bgagent \
 && useradd --system --uid 10001 --gid bgagent --create-home --home-dir /home/bgagent bgagent \
 && install -d -o bgagent -g bgagent /home/bgagent/.bgagent \
 && groupadd --system --gid 10002 bgagent-cmd \
 && useradd --system --uid 10002 --gid bgagent-cmd --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin bgagent-cmd
ENV BGAGENT_SANDBOX=two-user BGAGENT_SANDBOX_COMMAND_UID=10002
COPY --from=build /opt/venv /opt/venv
USER root
WORKDIR /home/bgagent
ENTRYPOINT ["python", "-m", "agent"]
