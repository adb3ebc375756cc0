"""Entrypoint: python -m services.gateway (uvicorn serving the FastAPI app)."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import uvicorn
import uvloop

from services.gateway.app import create_app
from services.gateway.bootstrap import build_deps, warn_deprecated_models, warn_unavailable_engines
from services.gateway.settings import GatewaySettings
from shared.aws.clients import AwsClients
from shared.observability.logging import configure_logging
from shared.observability.tracing import configure_tracing


async def main() -> None:
    settings = GatewaySettings()
    configure_logging("gateway", settings.log_level)
    configure_tracing("gateway", settings.xray_daemon_address)
    async with AwsClients(settings) as clients:
        deps = await build_deps(settings, clients)
        await warn_deprecated_models(deps)
        await warn_unavailable_engines(deps)
        app = create_app(deps)
        # httptools and uvloop (below): a C parser and event loop spend less CPU per request than h11 and asyncio.
        config = uvicorn.Config(app, host=settings.host, port=settings.port, log_config=None, http="httptools",
                                access_log=False, proxy_headers=True, timeout_graceful_shutdown=10)
        server = uvicorn.Server(config)
        # uvicorn re-raises SIGTERM after serving, which would end the process before the clients
        # close (and flush what they must): stop serving on the signal and return normally instead.
        setattr(server, "capture_signals", contextlib.nullcontext)  # noqa: B010  uvicorn's hook replaced on purpose
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, setattr, server, "should_exit", True)
        try:
            await server.serve()
        finally:
            close = getattr(deps.git, "aclose", None)
            if close is not None:
                await close()


if __name__ == "__main__":
    uvloop.run(main())
