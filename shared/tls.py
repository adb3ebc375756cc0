"""One verifying TLS client context per process, shared by its HTTP clients.

Loading the CA bundle costs ~50 ms of CPU per client otherwise; a warm worker's zygote builds it once
for every session it forks. Like httpx, SSL_CERT_FILE / SSL_CERT_DIR replace certifi's bundle.
"""

from __future__ import annotations

import functools
import os
import ssl

import certifi


@functools.cache
def client_context(cafile: str | None = None) -> ssl.SSLContext:
    """The context outbound HTTPS clients verify servers with (it holds no key, only trust).

    `cafile` trusts that bundle instead (an SDK's own setting, e.g. AWS_CA_BUNDLE); one context per bundle.
    """
    if cafile:
        return ssl.create_default_context(cafile=cafile)
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    return ssl.create_default_context(cafile=certifi.where())
