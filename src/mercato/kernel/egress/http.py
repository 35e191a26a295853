"""`http_client()`: an httpx client whose every connection goes through egress.

- Each new connection resolves its host once (`resolve_target`), refuses internal
  addresses, and connects to a checked address. The URL keeps the name, so the `Host`
  header, TLS SNI and certificate verification are all for the name, never the address.
- Redirects are off unless the caller turns them on; each hop is a new connection to a
  new host, so it is checked again.
- The whole request (connect, send, headers, body) has one time limit; a connection
  attempt gives up sooner, so a dropped port and a closed one fail the same way.
- Answers are capped in size. Responses are asked for uncompressed (`Accept-Encoding:
  identity`) and a compressed one is refused, so the cap is the size of the decoded body
  too and a small gzip bomb cannot grow into a large one.
- No proxies from the environment, no `.netrc`.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from collections.abc import AsyncIterator, Iterable, Mapping

import httpcore
import httpx

from mercato.kernel import tracing
from mercato.kernel.egress.errors import (
    CannotConnect,
    DeadlineExceeded,
    ResponseRefused,
    ResponseTooLarge,
)
from mercato.kernel.egress.targets import resolve_target
from mercato.settings import get_settings

DEFAULT_TIMEOUT_S = 15.0
CONNECT_TIMEOUT_S = 5.0
MAX_REDIRECTS = 3


class _CheckedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network layer, with the host resolved and checked by egress."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        *others, last = (await resolve_target(host, port)).addresses
        for address in others:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout):
                continue  # the next address of the same answer
        return await self._inner.connect_tcp(
            str(last), port, timeout, local_address, socket_options
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise CannotConnect("egress connects to TCP hosts only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default verification (certifi's CA bundle), built once per process."""
    return httpx.create_ssl_context()


class _EgressTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over the checked backend, with a deadline and a size cap."""

    def __init__(self, *, deadline_s: float, max_response_bytes: int) -> None:
        # httpx's constructor offers no way to pass a network backend, so the connection
        # pool is built here instead (the rest of the transport only uses `_pool`).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=_tls_context(), network_backend=_CheckedBackend()
        )
        self._deadline_s = deadline_s
        self._max_response_bytes = max_response_bytes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.headers["Accept-Encoding"] = "identity"
        deadline = asyncio.get_running_loop().time() + self._deadline_s
        try:
            async with asyncio.timeout_at(deadline):
                response = await super().handle_async_request(request)
        except TimeoutError:
            raise DeadlineExceeded("no answer in time", request=request) from None
        try:
            self._check_headers(response, request)
        except httpx.TransportError:
            await response.aclose()
            raise
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_CappedStream(response.stream, request, deadline, self._max_response_bytes),
            extensions=response.extensions,
        )

    def _check_headers(self, response: httpx.Response, request: httpx.Request) -> None:
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            raise ResponseRefused(f"compressed answer ({encoding})", request=request)
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > self._max_response_bytes:
            raise ResponseTooLarge(f"answer of {length} bytes", request=request)


class _CappedStream(httpx.AsyncByteStream):
    """The body as it arrives, stopped at the size cap or the request's deadline."""

    def __init__(
        self,
        stream: httpx.SyncByteStream | httpx.AsyncByteStream,
        request: httpx.Request,
        deadline: float,
        limit: int,
    ) -> None:
        if not isinstance(stream, httpx.AsyncByteStream):
            raise TypeError("an async transport answers with an async stream")
        self._stream = stream
        self._request = request
        self._deadline = deadline
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        received = 0
        chunks = self._stream.__aiter__()
        while True:
            try:
                async with asyncio.timeout_at(self._deadline):
                    chunk = await anext(chunks)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise DeadlineExceeded("no answer in time", request=self._request) from None
            received += len(chunk)
            if received > self._limit:
                raise ResponseTooLarge(f"answer over {self._limit} bytes", request=self._request)
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()


def http_client(
    *,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    follow_redirects: bool = False,
    max_response_bytes: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` for outbound calls; use it as `async with http_client() as http`.

    `timeout_s` bounds each request as a whole (each redirect hop has its own).
    `max_response_bytes` may lower `MERCATO_EGRESS_MAX_RESPONSE_BYTES` for this client,
    never raise it.
    """
    cap = get_settings().egress_max_response_bytes
    if max_response_bytes is not None:
        cap = min(cap, max_response_bytes)
    client = httpx.AsyncClient(
        transport=_EgressTransport(deadline_s=timeout_s, max_response_bytes=cap),
        timeout=httpx.Timeout(timeout_s, connect=min(CONNECT_TIMEOUT_S, timeout_s / 2)),
        follow_redirects=follow_redirects,
        max_redirects=MAX_REDIRECTS,
        trust_env=False,
        headers=headers,
    )
    tracing.instrument_client(client)  # each outbound call is a span of the caller's trace
    return client
