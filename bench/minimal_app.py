"""The floor of an authenticated cached read on our stack, for bench/capacity.py.

A FastAPI app under the same uvicorn, uvloop and httptools as `mercato serve`, answering
`GET /api/v1/tenants/{T}/recommendations` the least costly way that is still honest: the
API key is looked up in a dict, then one Redis pipeline counts the request (as a rate
limit would) and reads the cached answer, which goes out as stored bytes. No middleware,
no database. `capacity.py` starts it with `uvicorn minimal_app:app --workers N` and
compares the recommendation cache hit's capacity with this one's at the same budget:
the difference is what the platform's request path costs, not Python or the machine.

Environment: MINIMAL_APP_KEYS (JSON {api key: tenant id}) and MINIMAL_APP_REDIS (URL).
Cached answers live under `bench-minimal:{T}:reco:<user>:<placement>`.
"""

from __future__ import annotations

import json
import os

from fastapi import FastAPI, Header, HTTPException, Response
from redis.asyncio import Redis

KEYS: dict[str, str] = json.loads(os.environ.get("MINIMAL_APP_KEYS", "{}"))
redis = Redis.from_url(os.environ.get("MINIMAL_APP_REDIS", "redis://127.0.0.1:6379/0"))
app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


def cache_key(tenant_id: str, user_id: str, placement: str) -> str:
    return f"bench-minimal:{{{tenant_id}}}:reco:{user_id}:{placement}"


@app.get("/api/v1/tenants/{tenant_id}/recommendations")
async def recommendations(
    tenant_id: str, user_id: str, placement: str, x_api_key: str = Header()
) -> Response:
    if KEYS.get(x_api_key) != tenant_id:
        raise HTTPException(status_code=401)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.incr(f"bench-minimal:{{{tenant_id}}}:requests")
        pipe.get(cache_key(tenant_id, user_id, placement))
        _, cached = await pipe.execute()
    if cached is None:
        raise HTTPException(status_code=404)
    return Response(cached, media_type="application/json")
