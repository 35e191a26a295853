"""FastAPI dependencies every router uses: the unit-of-work session(s) and the client address."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.context import request_id_var
from mercato.kernel.db import get_database, unit_of_work


async def _session() -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the route returns, else rolled back.

    Scope `function` makes the commit happen before the response is sent, so a failed
    commit is reported to the client instead of being lost after a 2xx.
    """
    async with unit_of_work(get_database().sessionmaker) as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(_session, scope="function")]


async def _read_session(session: DbSession) -> AsyncIterator[AsyncSession]:
    """For reads that may lag the request's own writes by the replica's lag (analytics,
    exports, task lists): a read-only transaction on the replica, scoped as the request's
    session is; that session itself when no replica is fit to read from."""
    async with get_database().read_following(session) as read:
        yield read


ReadSession = Annotated[AsyncSession, Depends(_read_session, scope="function")]


def client_ip(request: Request) -> str:
    """The peer address (uvicorn applies X-Forwarded-For only from trusted proxies)."""
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True)
class RequestMeta:
    """Where a request came from, for audit trails and security logs."""

    ip: str
    user_agent: str | None
    request_id: str | None


def request_meta(request: Request) -> RequestMeta:
    return RequestMeta(
        ip=client_ip(request),
        user_agent=(request.headers.get("user-agent") or "")[:300] or None,
        request_id=request_id_var.get(),
    )


Meta = Annotated[RequestMeta, Depends(request_meta)]
