"""Entrypoint: python -m services.dispatcher"""

import asyncio

from services.dispatcher.bootstrap import agent_environment, build_dispatcher
from services.dispatcher.settings import DispatcherSettings
from shared.messaging.worker import serve_queue


async def main() -> None:
    settings = DispatcherSettings()

    async def build(clients):
        return (await build_dispatcher(settings, clients, agent_environment())).handle

    await serve_queue("dispatcher", settings, build)


if __name__ == "__main__":
    asyncio.run(main())
