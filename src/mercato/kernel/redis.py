"""The shared Redis client and the key scheme.

Every key of a tenant carries the hash tag `{tenant_id}` so Redis Cluster keeps one
tenant's keys in one slot (multi-key scripts stay possible) and a key can never be
read across tenants by accident. Keys that belong to no tenant use `tenant_key(None, …)`.
"""

from __future__ import annotations

import uuid

from redis.asyncio import Redis

from mercato.kernel import embedded
from mercato.settings import Settings

GLOBAL_TAG = "global"


def resolve_url(settings: Settings) -> str:
    return settings.redis_url or embedded.redis_url(settings.data_dir)


def create_client(url: str) -> Redis:
    return Redis.from_url(
        url,
        decode_responses=False,
        socket_connect_timeout=2,
        socket_timeout=2,
        health_check_interval=30,
        retry_on_timeout=False,
    )


def tenant_key(tenant_id: uuid.UUID | str | None, *parts: object) -> str:
    """`mercato:{<tenant>}:part:part…` — the only way keys are built."""
    tag = GLOBAL_TAG if tenant_id is None else str(tenant_id)
    return ":".join(["mercato", "{" + tag + "}", *(str(p) for p in parts)])


_client: Redis | None = None


def init_redis(settings: Settings) -> Redis:
    global _client
    if _client is None:
        _client = create_client(resolve_url(settings))
    return _client


def get_redis() -> Redis:
    if _client is None:
        raise RuntimeError("Redis is not initialised; call init_redis() first")
    return _client


async def close_redis() -> None:
    global _client
    if _client is not None:
        await _client.aclose()
        _client = None
