# syntax=docker/dockerfile:1
# The five platform services from one Dockerfile, one build target each (an exec-form CMD cannot
# expand a build argument, so the service is chosen with --target rather than --build-arg):
#
#   docker build -f docker/service.Dockerfile --target gateway -t bgagent/gateway .
#
# targets: gateway, hydrator, dispatcher, finalizer, reconciler. In AWS the dispatcher starts agents
# as ECS tasks, so no service image needs git or build tools (see agent.Dockerfile for those).

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
RUN pip install .

FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
RUN groupadd --system --gid 10001 bgagent \
 && useradd --system --uid 10001 --gid bgagent --create-home --home-dir /home/bgagent bgagent \
 && install -d -o bgagent -g bgagent /home/bgagent/.bgagent
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
WORKDIR /home/bgagent

FROM runtime AS gateway
ENV BGAGENT_HOST=0.0.0.0 BGAGENT_PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=3)"]
CMD ["python", "-m", "services.gateway"]

FROM runtime AS hydrator
CMD ["python", "-m", "services.hydrator"]

FROM runtime AS dispatcher
CMD ["python", "-m", "services.dispatcher"]

FROM runtime AS finalizer
CMD ["python", "-m", "services.finalizer"]

# The last stage is what a plain `docker build` (no --target) produces: the reconciler.
FROM runtime AS reconciler
CMD ["python", "-m", "services.reconciler"]
