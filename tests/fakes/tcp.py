"""An open TCP port on 127.0.0.1 that is no real service: counts connections, hangs up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


@asynccontextmanager
async def tcp_listener(accepted: list[int], greeting: bytes = b"") -> AsyncIterator[int]:
    """Yield the port; each connection is recorded in `accepted`, sent `greeting`, closed."""

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        writer.write(greeting)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()
