"""Live counts: co-purchases and trending kept in Redis as events arrive, so a purchase
shows in `frequently_bought_together` and `trending` within seconds, without a refit.

Tracking tells us about every stored live event (`tracking.on_events_stored`); one Lua
script per tenant and batch updates, atomically:
- `live:trending` — a sorted set of product → decayed event weight (view 1, cart 3,
  purchase 10, as the fitted trending), half-life `TRENDING_HALF_LIFE_DAYS`;
- `live:basket:<order>` — the products of an order (or of a visit, for purchases without
  an order id) for a day, so the order's next purchase event knows what it was bought with;
- `live:bought` (hash product → decayed orders holding it), `live:orders` (decayed orders)
  and `live:pairs:<product>` (sorted set other product → decayed orders holding both),
  half-life `CO_PURCHASE_HALF_LIFE_DAYS`: the counts association rules are made of.

Decay is forward decay: an event at time t adds 2^((t - epoch) / half-life), so older
events weigh exponentially less without ever rewriting a count, and ranks and ratios
(confidence, lift) need no division. The trending epoch moves every `REBASE_AFTER_S`
(scaling the set down in the same script) so weights never overflow; the co-purchase
half-life is long enough that its epoch never needs to (2^1023 is 85 years away).

Reading (on a cache miss only) is one read-only script: the rules from the anchors and
the trending head, in one round trip. Every key carries the tenant's hash tag; the keys
a script builds from a prefix hash to the same slot as those it is passed.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from mercato.kernel.logging import get_logger
from mercato.kernel.redis import Client, get_redis, tenant_key
from mercato.modules.recommendations.cache import learnt_key
from mercato.modules.recommendations.strategies import BoughtTogetherSettings, TrendingSettings
from mercato.modules.tracking import StoredEvent

log = get_logger("mercato.recommendations.live")

DAY_S = 86_400.0
CO_PURCHASE_HALF_LIFE_DAYS = 30.0
TRENDING_HALF_LIFE_DAYS = TrendingSettings().half_life_days
REBASE_AFTER_S = 30 * DAY_S
BASKET_TTL_S = 86_400
PAIRS_TTL_S = 180 * 86_400
TRENDING_KEPT = 2_000
PAIRS_KEPT = 200
RULE_WINDOW_DAYS = 7.0
"""A live rule needs `min_co_purchases` orders holding both products within about this
many days: its decayed count must reach `min_co_purchases` x 2^(-window / half-life)
(one order, however recent, never makes a rule; two within a week do)."""
FIRST_FIT_GUARD_S = 600
"""After the first events of a tenant without a model, no other first fit is asked for
this long (a first fit that found nothing to fit is asked again by later events)."""

SIGNAL_WEIGHT = {
    "view_item": TrendingSettings().view_weight,
    "add_to_cart": TrendingSettings().cart_weight,
    "purchase": TrendingSettings().purchase_weight,
}

_RECORD = """
local now = tonumber(ARGV[1])
local pair_half, trend_half = tonumber(ARGV[2]), tonumber(ARGV[3])
local prefix, basket_ttl, max_basket = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local rebase_after, pairs_ttl = tonumber(ARGV[7]), tonumber(ARGV[8])
local trending_kept, pairs_kept, guard_ttl = tonumber(ARGV[9]), tonumber(ARGV[10]), ARGV[11]
local epochs = redis.call('HMGET', KEYS[1], 'pairs', 'trending')
local pair_epoch, trend_epoch = tonumber(epochs[1]), tonumber(epochs[2])
if not pair_epoch then
  pair_epoch = now
  redis.call('HSET', KEYS[1], 'pairs', now)
end
if not trend_epoch then
  trend_epoch = now
  redis.call('HSET', KEYS[1], 'trending', now)
elseif now - trend_epoch > rebase_after then
  local scale = math.pow(2, -(now - trend_epoch) / trend_half)
  redis.call('ZUNIONSTORE', KEYS[3], 1, KEYS[3], 'WEIGHTS', scale)
  trend_epoch = now
  redis.call('HSET', KEYS[1], 'trending', now)
end
local signals = cjson.decode(ARGV[12])
for i = 1, #signals, 4 do
  local product, basket = signals[i], signals[i + 1]
  local at, weight = signals[i + 2], signals[i + 3]
  redis.call('ZINCRBY', KEYS[3], weight * math.pow(2, (at - trend_epoch) / trend_half), product)
  if basket ~= '' then
    local basket_key = prefix .. 'basket:' .. basket
    if redis.call('SADD', basket_key, product) == 1 then
      redis.call('EXPIRE', basket_key, basket_ttl)
      local w = math.pow(2, (at - pair_epoch) / pair_half)
      redis.call('HINCRBYFLOAT', KEYS[2], product, w)
      local members = redis.call('SMEMBERS', basket_key)
      if #members == 1 then
        redis.call('INCRBYFLOAT', KEYS[4], w)
      end
      if #members <= max_basket then
        for _, other in ipairs(members) do
          if other ~= product then
            for _, pair in ipairs({{product, other}, {other, product}}) do
              local pairs_key = prefix .. 'pairs:' .. pair[1]
              redis.call('ZINCRBY', pairs_key, w, pair[2])
              redis.call('ZREMRANGEBYRANK', pairs_key, 0, -(pairs_kept + 1))
              redis.call('EXPIRE', pairs_key, pairs_ttl)
            end
          end
        end
      end
    end
  end
end
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(trending_kept + 1))
if redis.call('EXISTS', KEYS[5]) == 1 then
  return 0
end
if redis.call('SET', KEYS[6], now, 'NX', 'EX', guard_ttl) then
  return 1
end
return 0
"""

_READ = """
local prefix, k = ARGV[1], tonumber(ARGV[2])
local min_count, min_confidence, min_lift = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local now, pair_half = tonumber(ARGV[6]), tonumber(ARGV[7])
local pair_epoch = tonumber(redis.call('HGET', KEYS[4], 'pairs') or ARGV[6])
local scale = math.pow(2, -(now - pair_epoch) / pair_half)
local orders = tonumber(redis.call('GET', KEYS[3]) or '0')
local rules = {}
for i = 9, #ARGV do
  local anchor = ARGV[i]
  local bought = tonumber(redis.call('HGET', KEYS[2], anchor) or '0')
  if bought > 0 then
    local pairs = redis.call('ZREVRANGE', prefix .. 'pairs:' .. anchor, 0, 4 * k, 'WITHSCORES')
    for j = 1, #pairs, 2 do
      local other, together = pairs[j], tonumber(pairs[j + 1])
      local other_bought = tonumber(redis.call('HGET', KEYS[2], other) or '0')
      local confidence = together / bought
      if together * scale >= min_count and confidence >= min_confidence and other_bought > 0
         and confidence * orders / other_bought > min_lift then
        table.insert(rules, other)
        table.insert(rules, tostring(confidence))
        table.insert(rules, anchor)
      end
    end
  end
end
local trending = {}
if ARGV[8] == '1' then
  trending = redis.call('ZREVRANGE', KEYS[1], 0, k - 1, 'WITHSCORES')
end
return {rules, trending}
"""


def _key(tenant_id: uuid.UUID, *parts: str) -> str:
    return tenant_key(tenant_id, "reco", "live", *parts)


def _prefix(tenant_id: uuid.UUID) -> str:
    """What the scripts prepend to `basket:<order>` and `pairs:<product>`."""
    return _key(tenant_id, "")


def first_fit_guard_key(tenant_id: uuid.UUID) -> str:
    return _key(tenant_id, "first-fit")


def _basket(event: StoredEvent) -> str:
    """The order a purchase belongs to (its visit without an order id), '' for others."""
    if event.type != "purchase":
        return ""
    if event.order_id:
        return f"o:{event.order_id}"
    return f"s:{event.user_id}:{event.session_id}" if event.session_id else ""


def _signals(events: Iterable[StoredEvent]) -> list[str | float]:
    """(product, basket, time, weight) of each event that counts, flat; the script gets
    them as one JSON argument (encoded in C) rather than four arguments an event."""
    flat: list[str | float] = []
    for event in events:
        weight = SIGNAL_WEIGHT.get(event.type)
        if weight is None or not event.product_id:
            continue
        flat += [event.product_id, _basket(event), event.occurred_at.timestamp(), weight]
    return flat


_scripts: dict[str, tuple[Client, AsyncScript]] = {}


def _script(source: str) -> AsyncScript:
    """One registered script per source and Redis client (the client changes in tests)."""
    redis = get_redis()
    known = _scripts.get(source)
    if known is None or known[0] is not redis:
        known = _scripts[source] = (redis, redis.register_script(source))
    return known[1]


async def record_events(
    tenant_id: uuid.UUID, events: Sequence[StoredEvent], now: float | None = None
) -> bool:
    """Count stored events; True when no model of the tenant learnt from events yet (one
    fitted on its catalog alone does not count) and this is the first batch to say so for
    a while: the caller asks for the first fit. Redis down: logged, False."""
    flat = _signals(events)
    if not flat:
        return False
    keys = [
        _key(tenant_id, "epochs"),
        _key(tenant_id, "bought"),
        _key(tenant_id, "trending"),
        _key(tenant_id, "orders"),
        learnt_key(tenant_id),
        first_fit_guard_key(tenant_id),
    ]
    arguments: list[str | float] = [
        now if now is not None else time.time(),
        CO_PURCHASE_HALF_LIFE_DAYS * DAY_S,
        TRENDING_HALF_LIFE_DAYS * DAY_S,
        _prefix(tenant_id),
        BASKET_TTL_S,
        BoughtTogetherSettings().max_basket_size,
        REBASE_AFTER_S,
        PAIRS_TTL_S,
        TRENDING_KEPT,
        PAIRS_KEPT,
        FIRST_FIT_GUARD_S,
        json.dumps(flat, separators=(",", ":")),
    ]
    try:
        first = await _script(_RECORD)(keys=keys, args=arguments)
    except RedisError as exc:
        log.warning("reco_live_counts_unavailable", error=str(exc))
        return False
    return bool(first)


@dataclass(frozen=True)
class LiveRule:
    product_id: str
    confidence: float
    anchor: str


@dataclass(frozen=True)
class LiveLists:
    """What the live counts say for one query: rules from its anchors, best first, and
    the shop's trending head (product, decayed weight), best first."""

    rules: list[LiveRule] = field(default_factory=list)
    trending: list[tuple[str, float]] = field(default_factory=list)


async def read_live(
    tenant_id: uuid.UUID,
    anchors: Sequence[str],
    k: int,
    *,
    trending: bool,
    now: float | None = None,
) -> LiveLists:
    """Association rules from `anchors` (the strongest per product) and, if asked, the
    `k` products trending now; empty lists when Redis cannot be reached."""
    settings = BoughtTogetherSettings()
    keys = [
        _key(tenant_id, "trending"),
        _key(tenant_id, "bought"),
        _key(tenant_id, "orders"),
        _key(tenant_id, "epochs"),
    ]
    arguments = [
        _prefix(tenant_id),
        k,
        settings.min_co_purchases * 2 ** (-RULE_WINDOW_DAYS / CO_PURCHASE_HALF_LIFE_DAYS),
        settings.min_confidence,
        settings.min_lift,
        now if now is not None else time.time(),
        CO_PURCHASE_HALF_LIFE_DAYS * DAY_S,
        "1" if trending else "0",
        *anchors,
    ]
    try:
        raw_rules, raw_trending = await _script(_READ)(keys=keys, args=arguments)
    except RedisError as exc:
        log.warning("reco_live_counts_unavailable", error=str(exc))
        return LiveLists()
    strongest: dict[str, LiveRule] = {}
    for at in range(0, len(raw_rules), 3):
        rule = LiveRule(
            raw_rules[at].decode(), float(raw_rules[at + 1]), raw_rules[at + 2].decode()
        )
        if rule.product_id in anchors:
            continue
        known = strongest.get(rule.product_id)
        if known is None or rule.confidence > known.confidence:
            strongest[rule.product_id] = rule
    rules = sorted(strongest.values(), key=lambda rule: (-rule.confidence, rule.product_id))
    hot = [
        (raw_trending[at].decode(), float(raw_trending[at + 1]))
        for at in range(0, len(raw_trending), 2)
    ]
    return LiveLists(rules, hot)
