"""Rate limits shared by every API process: GCRA in one atomic Redis script.

GCRA (the generic cell rate algorithm) stores one timestamp per key — the theoretical
arrival time of the next request — so a limit costs one small key, never drifts at window
edges, and allows a configurable burst. Time comes from Redis (`TIME`), so processes with
skewed clocks agree.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from redis.exceptions import NoScriptError, RedisError

from mercato.kernel.errors import RateLimited
from mercato.kernel.logging import get_logger
from mercato.kernel.redis import AnyPipeline, Client, queue_raw

log = get_logger("mercato.ratelimit")

# KEYS = buckets; ARGV = emission interval (µs), burst (requests), cost, for each bucket.
# Returns {allowed (0/1), remaining, retry_after_us, reset_us} for each bucket. A request
# is counted in every bucket only when every bucket allows it: one that is refused
# spends nothing.
GCRA_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local out, tats, refused = {}, {}, false
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[3 * i - 2])
  local burst = tonumber(ARGV[3 * i - 1])
  local cost = tonumber(ARGV[3 * i])
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  local new_tat = tat + interval * cost
  local allow_at = new_tat - interval * burst
  if now < allow_at then
    local remaining = math.floor((now - (tat - interval * burst)) / interval)
    if remaining < 0 then remaining = 0 end
    refused = true
    table.insert(out, {0, remaining, allow_at - now, tat - now})
  else
    table.insert(out, {1, math.floor((now - allow_at) / interval), 0, new_tat - now})
  end
  tats[i] = new_tat
end
if not refused then
  for i, key in ipairs(KEYS) do
    redis.call('SET', key, tats[i], 'PX', math.ceil((tats[i] - now) / 1000) + 1)
  end
end
return out
"""

LIMIT_PATTERN = re.compile(
    r"^\s*(?P<count>\d+)\s*/\s*(?P<unit>second|minute|hour|day)(?:\s*;\s*burst\s*=\s*(?P<burst>\d+))?\s*$"
)
UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class Limit:
    """`count` requests per `period_s`, of which up to `burst` may come at once."""

    count: int
    period_s: int
    burst: int

    @classmethod
    def parse(cls, spec: str) -> Limit:
        match = LIMIT_PATTERN.match(spec)
        if match is None:
            raise ValueError(
                f"rate limit {spec!r} is not like '1000/minute' or '100/minute;burst=20'"
            )
        count = int(match["count"])
        burst = int(match["burst"]) if match["burst"] else count
        return cls(count=count, period_s=UNIT_SECONDS[match["unit"]], burst=max(1, burst))

    @property
    def interval_us(self) -> int:
        return max(1, self.period_s * 1_000_000 // max(1, self.count))


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: Limit
    remaining: int
    retry_after_s: float
    reset_s: float

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit.count),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(math.ceil(self.reset_s)),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(self.retry_after_s)))
        return headers

    def header_pairs(self) -> list[tuple[bytes, bytes]]:
        """The headers as raw ASGI pairs (lowercase names)."""
        return [(name.lower().encode(), value.encode()) for name, value in self.headers().items()]


class RateLimiter:
    def __init__(self, redis: Client, *, fail_open: bool) -> None:
        self.redis = redis
        self.fail_open = fail_open
        self._script = redis.register_script(GCRA_SCRIPT)

    async def hit(self, key: str, limit: Limit, cost: int = 1) -> Decision | None:
        """Count one request against `key`. None when Redis is down and limits fail open."""
        return (await self.hit_many([(key, limit)], cost))[0]

    async def hit_many(
        self, buckets: list[tuple[str, Limit]], cost: int = 1
    ) -> list[Decision | None]:
        """Count one request against every bucket, in one round trip (one script call).

        The buckets must share a Redis Cluster slot (one tenant's hash tag). Each decision
        is None when Redis is down and limits fail open.
        """
        keys = [key for key, _ in buckets]
        try:
            try:
                replies = await self.redis.evalsha(
                    self._script.sha, len(keys), *keys, *_args(buckets, cost)
                )
            except NoScriptError:  # a restarted or flushed Redis
                await self.redis.script_load(GCRA_SCRIPT)
                replies = await self.redis.evalsha(
                    self._script.sha, len(keys), *keys, *_args(buckets, cost)
                )
        except RedisError as exc:
            if self.fail_open:
                log.warning("rate_limit_unavailable", error=str(exc), failing="open")
                return [None] * len(buckets)
            raise RateLimited(
                "Rate limiting is unavailable, so requests are refused for now",
                headers={"Retry-After": "5"},
            ) from exc
        return self.decisions(buckets, replies)

    def queue(self, pipe: AnyPipeline, buckets: list[tuple[str, Limit]], cost: int = 1) -> None:
        """Add `hit_many` to a pipeline (one round trip with other commands); its reply
        goes to `decisions`. A pipeline does not load the script: a Redis that lost it
        answers NoScriptError, and the caller should fall back to `hit_many`."""
        keys = [key for key, _ in buckets]
        queue_raw(pipe, "EVALSHA", self._script.sha, len(keys), *keys, *_args(buckets, cost))

    @staticmethod
    def decisions(buckets: list[tuple[str, Limit]], reply: list[Any]) -> list[Decision | None]:
        return [
            _decision(limit, *answer) for (_, limit), answer in zip(buckets, reply, strict=True)
        ]


def _args(buckets: list[tuple[str, Limit]], cost: int) -> list[int]:
    args: list[int] = []
    for _, limit in buckets:
        args += [limit.interval_us, limit.burst, cost]
    return args


def _decision(limit: Limit, allowed: int, remaining: int, retry_us: int, reset_us: int) -> Decision:
    return Decision(
        allowed=bool(allowed),
        limit=limit,
        remaining=int(remaining),
        retry_after_s=int(retry_us) / 1_000_000,
        reset_s=int(reset_us) / 1_000_000,
    )


def enforce(decision: Decision | None) -> None:
    """Raise 429 with the standard headers when the decision refuses the request."""
    if decision is not None and not decision.allowed:
        raise RateLimited(
            f"Rate limit of {decision.limit.count} requests per {decision.limit.period_s}s "
            "exceeded",
            headers=decision.headers(),
        )
