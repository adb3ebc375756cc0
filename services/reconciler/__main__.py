"""Entrypoint: python -m services.reconciler"""

import asyncio

from services.reconciler.bootstrap import build_reconciler
from services.reconciler.settings import ReconcilerSettings
from shared.messaging.worker import serve_queue


async def main() -> None:
    settings = ReconcilerSettings()

    async def build(clients):
        return (await build_reconciler(settings, clients)).handle

    await serve_queue("reconciler", settings, build)


if __name__ == "__main__":
    asyncio.run(main())
