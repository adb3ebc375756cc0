"""Entrypoint: python -m services.dispatcher"""

from services.dispatcher.bootstrap import agent_environment, build_dispatcher
from services.dispatcher.handlers import HANDLERS
from services.dispatcher.settings import DispatcherSettings
from shared.messaging.worker import run_service


async def _build(settings, clients):
    return await build_dispatcher(settings, clients, agent_environment())


if __name__ == "__main__":
    run_service("dispatcher", DispatcherSettings(), _build, HANDLERS)
