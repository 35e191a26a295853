"""Run a small ASGI app on 127.0.0.1 (a random port) for the duration of a test."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def serve(
    app: Any, *, host: str = "127.0.0.1", port: int | None = None, **tls: str
) -> AsyncIterator[str]:
    """Yield the base URL of `app`, served by uvicorn in this event loop.

    `host` and `port` pick the address (another loopback address such as 127.0.0.2 works
    on Linux); `ssl_certfile` and `ssl_keyfile` serve HTTPS.
    """
    port = port or free_port(host)
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_config=None, lifespan="off", **tls)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"{'https' if tls else 'http'}://{host}:{port}"
    finally:
        server.should_exit = True
        await task
