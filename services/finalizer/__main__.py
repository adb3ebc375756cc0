"""Entrypoint: python -m services.finalizer"""

import asyncio

from services.finalizer.bootstrap import build_finalizer
from services.finalizer.settings import FinalizerSettings
from shared.messaging.worker import serve_queue


async def main() -> None:
    settings = FinalizerSettings()

    async def build(clients):
        return (await build_finalizer(settings, clients)).handle

    await serve_queue("finalizer", settings, build)


if __name__ == "__main__":
    asyncio.run(main())
