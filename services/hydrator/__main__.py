"""Entrypoint: python -m services.hydrator"""

import asyncio

from services.hydrator.bootstrap import build_hydrator
from services.hydrator.settings import HydratorSettings
from shared.messaging.worker import serve_queue


async def main() -> None:
    settings = HydratorSettings()

    async def build(clients):
        return (await build_hydrator(settings, clients)).handle

    await serve_queue("hydrator", settings, build)


if __name__ == "__main__":
    asyncio.run(main())
