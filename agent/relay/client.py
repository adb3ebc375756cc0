"""The native loop's Anthropic client: the real SDK, talking to the task's relay over its unix socket."""

from __future__ import annotations

from pathlib import Path

import anthropic
import httpx2

# The placeholder key a client inside the sandbox sends (the SDK and the CLI insist on one); the relay drops it.
RELAY_API_KEY = "bgagent-relay"
# The host part is never resolved: every connection goes to the socket.
RELAY_BASE_URL = "http://relay.bgagent"


def relay_sdk(socket_path: Path, *, max_retries: int) -> anthropic.AsyncAnthropic:
    """An AsyncAnthropic whose every request goes to the relay at `socket_path`."""
    transport = httpx2.AsyncHTTPTransport(uds=str(socket_path))
    return anthropic.AsyncAnthropic(api_key=RELAY_API_KEY, base_url=RELAY_BASE_URL, max_retries=max_retries,
                                    http_client=anthropic.DefaultAsyncHttpxClient(transport=transport))
