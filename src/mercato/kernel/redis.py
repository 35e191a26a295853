"""The shared Redis client and the key scheme.

Every key of a tenant carries the hash tag `{tenant_id}` so Redis Cluster keeps one
tenant's keys in one slot (multi-key scripts stay possible) and a key can never be
read across tenants by accident. Keys that belong to no tenant use `tenant_key(None, …)`.

With `MERCATO_REDIS_CLUSTER=true`, `MERCATO_REDIS_URL` names one node of a Redis Cluster
and the client is a `RedisCluster`, which finds the other nodes and follows slots as they
move. Callers use the commands both clients share; every multi-key command, script and
pipeline keeps its keys under one hash tag, so each goes to one node as one unit.
"""

from __future__ import annotations

import uuid
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterPipeline
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException

from mercato.kernel import embedded
from mercato.settings import Settings

GLOBAL_TAG = "global"


class Cluster(RedisCluster):
    """A `RedisCluster` whose "no node reachable" is a `ConnectionError`.

    redis-py raises a bare `RedisClusterException` (not a `RedisError`) when it cannot
    learn the slot map; every caller here falls back, or fails open, on `RedisError`, and
    must do so on a cluster that is down as on one server that is.
    """

    async def initialize(self, *args: Any, **kwargs: Any) -> Cluster:
        try:
            await super().initialize(*args, **kwargs)
        except RedisClusterException as exc:
            raise RedisConnectionError(str(exc)) from exc
        return self


Client = Redis | Cluster
AnyPipeline = Pipeline | ClusterPipeline


def resolve_url(settings: Settings) -> str:
    return settings.redis_url or embedded.redis_url(settings.data_dir)


def create_client(url: str, *, cluster: bool = False) -> Client:
    options: dict[str, Any] = {
        "decode_responses": False,
        "socket_connect_timeout": 2,
        "socket_timeout": 2,
        "health_check_interval": 30,
    }
    if cluster:
        client = Cluster.from_url(url, **options)
        assert isinstance(client, Cluster)  # from_url is typed as returning the base class
        return client
    return Redis.from_url(url, retry_on_timeout=False, **options)


def queue_raw(pipe: AnyPipeline, command: str, *args: str | int) -> None:
    """Queue a multi-key command (MGET, EVALSHA) in a pipeline.

    redis-py's cluster pipeline refuses `.mget()` and `.evalsha()` outright, in case the
    keys span slots; ours share one hash tag, so the raw command goes to that slot's node
    (a cross-slot call would still fail, as CROSSSLOT, rather than be split).
    """
    pipe.execute_command(command, *args)


def tenant_key(tenant_id: uuid.UUID | str | None, *parts: object) -> str:
    """`mercato:{<tenant>}:part:part…` — the only way keys are built."""
    tag = GLOBAL_TAG if tenant_id is None else str(tenant_id)
    return ":".join(["mercato", "{" + tag + "}", *(str(p) for p in parts)])


_client: Client | None = None


def init_redis(settings: Settings) -> Client:
    global _client
    if _client is None:
        _client = create_client(resolve_url(settings), cluster=settings.redis_cluster)
    return _client


def get_redis() -> Client:
    if _client is None:
        raise RuntimeError("Redis is not initialised; call init_redis() first")
    return _client


async def close_redis() -> None:
    global _client
    if _client is not None:
        await _client.aclose()
        _client = None
