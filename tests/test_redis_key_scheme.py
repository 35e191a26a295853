"""Every Redis key Mercato writes is `mercato:{<tenant id>|global}:…`.

The hash tag keeps one tenant's keys in one Redis Cluster slot and makes every key name
its tenant. Runs after the rest of the suite has exercised the application.
"""

from __future__ import annotations

import re

import pytest
import redis

from mercato.settings import get_settings

KEY_SCHEME = re.compile(r"^mercato:\{([0-9a-f-]{36}|global)\}:")


@pytest.mark.run_last
def test_every_mercato_redis_key_carries_a_tenant_hash_tag(app) -> None:
    url = get_settings().redis_url
    assert url is not None
    client = redis.Redis.from_url(url)
    try:
        keys = [key.decode() for key in client.scan_iter(match="mercato*", count=1000)]
    finally:
        client.close()
    assert keys, "the suite wrote no Redis keys at all"
    assert [key for key in keys if not KEY_SCHEME.match(key)] == []
