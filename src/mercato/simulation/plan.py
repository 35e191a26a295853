"""Who the simulated shoppers are and when they visit, drawn in bulk with numpy.

The plan is everything decided before the first event: each shopper's segment, home
store, habits and experiment arm, the planted behaviours, and the schedule of every
session (start time and whether it is a web visit or a visit to a store). Drawing these
as arrays keeps the per-event loop of the simulator free of scheduling work.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from mercato.simulation.catalog import LocationDoc
from mercato.simulation.shop import ShopIndex

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MIN_GAP_MS = 90 * 60_000  # one shopper's sessions start at least this far apart
TRENDING_DAYS = 7
BUNDLES = 10
STORE_VISIT_SHARE = 0.012
# Sessions per day for casual, regular and loyal shoppers (each visits at least once).
VISIT_RATES = (0.015, 0.06, 0.2)
CLASS_SHARES = (0.70, 0.22, 0.08)
ABANDONER_SHARE_OF_REGULARS = 0.15
# Local hour of day and weekday (Monday first) weights: evenings and Sundays are busiest
# online; stores open Monday to Saturday, 9:00 to 20:00.
WEB_HOURS = (0.3, 0.15, 0.1, 0.08, 0.08, 0.15, 0.4, 0.8, 1.1, 1.3, 1.4, 1.5,
             1.7, 1.6, 1.4, 1.4, 1.5, 1.7, 2.0, 2.4, 2.7, 2.4, 1.6, 0.8)  # fmt: skip
WEB_WEEKDAYS = (1.0, 0.95, 0.95, 1.0, 0.9, 1.05, 1.35)
STORE_HOURS = tuple(1.0 if 9 <= hour < 20 else 0.0 for hour in range(24))
STORE_WEEKDAYS = (1.0, 0.9, 0.9, 1.0, 1.2, 1.6, 0.0)
DEVICES = ("mobile", "desktop", "tablet")
DEVICE_SHARES = (0.58, 0.35, 0.07)
FIRST_NAMES = ("anna", "ben", "clara", "david", "emma", "felix", "greta", "hannes", "ida",
               "jonas", "katrin", "lukas", "mia", "niklas", "olga", "paul", "rosa", "simon",
               "tara", "uwe", "vera", "willem", "yasmin", "zoe")  # fmt: skip
LAST_NAMES = ("bauer", "berg", "dahl", "engel", "fischer", "graf", "hansen", "jansen",
              "keller", "lang", "meyer", "novak", "peters", "richter", "schulz", "vogel",
              "wagner", "weber", "winter", "ziegler")  # fmt: skip

Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Shopper:
    user_id: str
    name: str
    email: str
    segment: str  # the department the shopper mostly buys from
    home_location: str | None
    loyal: bool
    abandoner: bool
    variant: str  # experiment arm: "control" or "variant"


@dataclass(frozen=True)
class ExperimentPlan:
    """A product-page recommendation test whose variant earns about twice the clicks."""

    experiment_id: str
    placement: str
    control_strategy: str
    variant_strategy: str
    traffic_split: int  # % of shoppers in control (API.md's bucket rule)
    control_click_rate: float  # chance a shown recommendation list gets a click
    variant_click_rate: float


@dataclass(frozen=True)
class SimulationPlan:
    seed: int
    start: datetime
    end: datetime
    shoppers: list[Shopper]
    bundles: list[tuple[str, str]]  # (anchor, partner) product ids often bought together
    gap_queries: tuple[str, ...]  # searches that always find nothing
    typo_queries: dict[str, str]  # misspelt word → intended word; these searches find results
    trending_product_id: str
    trending_since: datetime
    experiment: ExperimentPlan
    flagship_location: str | None
    store_locations: tuple[str, ...]


@dataclass(frozen=True)
class Population:
    """Per-shopper arrays the session loop reads (index = shopper number)."""

    segment: list[int]
    favourite_leaves: list[tuple[int, int]]
    propensity: list[float]
    home: list[int]  # index into plan.store_locations, -1 without one
    device: list[str]
    in_variant: list[bool]
    abandoner: list[bool]


@dataclass(frozen=True)
class Schedule:
    """Every session, sorted by start: shopper number, start (epoch ms), in a store?"""

    shopper: list[int]
    start_ms: list[int]
    in_store: list[bool]


def period(days: int, end: datetime | None) -> tuple[datetime, datetime]:
    """The simulated period: `days` whole days ending at `end` (default: today 00:00 UTC)."""
    if days < 1:
        raise ValueError("days must be at least 1")
    if end is None:
        end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if end.tzinfo is None:
        raise ValueError("end must be timezone-aware")
    end = end.astimezone(UTC)
    return end - timedelta(days=days), end


def experiment_arm(experiment_id: str, user_id: str, traffic_split: int) -> str:
    """API.md's assignment rule, so the simulated arms match what the API would serve."""
    bucket = int(hashlib.sha256(f"{experiment_id}:{user_id}".encode()).hexdigest(), 16) % 100
    return "control" if bucket < traffic_split else "variant"


def draw_population(
    rng: np.random.Generator,
    shop: ShopIndex,
    users: int,
    stores: Sequence[LocationDoc],
    experiment: ExperimentPlan,
) -> tuple[list[Shopper], Population, Ints]:
    """The shoppers, their habits, and their class (0 casual, 1 regular, 2 loyal)."""
    if users < 1:
        raise ValueError("users must be at least 1")
    departments = len(shop.departments)
    leaf_department = np.array(shop.department_of_leaf)
    leaf_weight = np.array(shop.leaf_weight)
    share = np.bincount(leaf_department, weights=leaf_weight, minlength=departments)
    segment = rng.choice(departments, size=users, p=share / share.sum())
    in_main = leaf_department[None, :] == np.arange(departments)[:, None]
    cumulative = np.cumsum(np.where(in_main, leaf_weight[None, :], 0.0), axis=1)
    cumulative /= cumulative[:, -1:]
    rolls = rng.random((users, 2))
    favourites = np.stack(
        [(cumulative[segment] < rolls[:, [k]]).sum(axis=1) for k in range(2)], axis=1
    )
    klass = rng.choice(3, size=users, p=CLASS_SHARES)
    abandoner = (klass == 1) & (rng.random(users) < ABANDONER_SHARE_OF_REGULARS)
    propensity = rng.beta(2.0, 5.0, size=users)
    home = _homes(rng, users, stores)
    device = rng.choice(len(DEVICES), size=users, p=DEVICE_SHARES)
    first = rng.integers(len(FIRST_NAMES), size=users)
    last = rng.integers(len(LAST_NAMES), size=users)
    shoppers: list[Shopper] = []
    for i in range(users):
        user_id = f"u{i + 1:06d}"
        given, family = FIRST_NAMES[first[i]], LAST_NAMES[last[i]]
        shoppers.append(
            Shopper(
                user_id=user_id,
                name=f"{given.title()} {family.title()}",
                email=f"{given}.{family}.{i + 1}@example.com",
                segment=shop.departments[segment[i]],
                home_location=stores[home[i]]["code"] if home[i] >= 0 else None,
                loyal=bool(klass[i] == 2),
                abandoner=bool(abandoner[i]),
                variant=experiment_arm(experiment.experiment_id, user_id, experiment.traffic_split),
            )
        )
    population = Population(
        segment=segment.tolist(),
        favourite_leaves=[(int(a), int(b)) for a, b in favourites],
        propensity=propensity.tolist(),
        home=home.tolist(),
        device=[DEVICES[d] for d in device],
        in_variant=[s.variant == "variant" for s in shoppers],
        abandoner=abandoner.tolist(),
    )
    return shoppers, population, klass


def _homes(rng: np.random.Generator, users: int, stores: Sequence[LocationDoc]) -> Ints:
    """Each shopper's home store; the flagship (the first) draws the most shoppers."""
    if not stores:
        return np.full(users, -1, dtype=np.int64)
    weights = np.array(
        [2.5 if i == 0 else 1.0 if s["kind"] == "store" else 0.7 for i, s in enumerate(stores)]
    )
    return rng.choice(len(stores), size=users, p=weights / weights.sum()).astype(np.int64)


def draw_schedule(
    rng: np.random.Generator,
    klass: Ints,
    homes: Ints,
    abandoner: npt.NDArray[np.bool_],
    stores: Sequence[LocationDoc],
    start: datetime,
    days: int,
) -> Schedule:
    """Session starts for every shopper over the period, in time order.

    Visits per shopper are 1 + Poisson(rate * days) by class; a shopper with a home
    store (abandoners excepted) makes about one visit in eight in a store. Days follow
    the weekday weights with 25 % growth over the period; hours follow local time at the
    shopper's home store.
    """
    users = len(klass)
    visits = 1 + rng.poisson(np.array(VISIT_RATES)[klass] * days)
    shopper = np.repeat(np.arange(users), visits)
    in_store = rng.random(len(shopper)) < STORE_VISIT_SHARE
    in_store &= (homes[shopper] >= 0) & ~abandoner[shopper]  # abandoners never buy anywhere
    growth = 1 + 0.25 * np.arange(days) / days
    weekday = (start.weekday() + np.arange(days)) % 7
    web_days = np.array(WEB_WEEKDAYS)[weekday] * growth
    store_days = np.array(STORE_WEEKDAYS)[weekday] * growth
    if store_days.sum() == 0:  # a period of Sundays only: stores are closed
        in_store[:] = False
    offsets = _utc_offsets_ms(stores, start, days)
    start_ms = np.empty(len(shopper), dtype=np.int64)
    for store_visit, hours, day_weight in (
        (False, WEB_HOURS, web_days),
        (True, STORE_HOURS, store_days),
    ):
        chosen = np.flatnonzero(in_store == store_visit)
        if not len(chosen):
            continue
        day = rng.choice(days, size=len(chosen), p=day_weight / day_weight.sum())
        hour = rng.choice(24, size=len(chosen), p=np.array(hours) / sum(hours))
        within = rng.integers(HOUR_MS, size=len(chosen))
        local = day * DAY_MS + hour * HOUR_MS + within
        start_ms[chosen] = local - offsets[homes[shopper[chosen]], day]
    start_ms = _spread_per_shopper(shopper, start_ms, users)
    keep = (start_ms >= 0) & (start_ms < days * DAY_MS)
    order = np.lexsort((shopper[keep], start_ms[keep]))
    epoch_ms = int(start.timestamp() * 1000)
    return Schedule(
        shopper=shopper[keep][order].tolist(),
        start_ms=(start_ms[keep][order] + epoch_ms).tolist(),
        in_store=in_store[keep][order].tolist(),
    )


def _spread_per_shopper(shopper: Ints, start_ms: Ints, users: int) -> Ints:
    """Push a shopper's sessions apart to at least MIN_GAP_MS, vectorised.

    Within one shopper's sorted starts s_i, s'_i = max(s_i, s'_{i-1} + G) equals
    i*G + max over j <= i of (s_j - j*G): a running maximum, made per shopper by offsetting each
    shopper's values above all earlier shoppers'.
    """
    order = np.lexsort((start_ms, shopper))
    sorted_shopper, sorted_start = shopper[order], start_ms[order]
    first_of = np.searchsorted(sorted_shopper, np.arange(users))
    rank = np.arange(len(order)) - first_of[sorted_shopper]
    band = np.int64(1) << np.int64(40)  # above any period in ms (about 12,700 days)
    lifted = sorted_start - rank * MIN_GAP_MS + sorted_shopper * band
    spread = np.maximum.accumulate(lifted) - sorted_shopper * band + rank * MIN_GAP_MS
    result = np.empty_like(start_ms)
    result[order] = spread
    return result


def _utc_offsets_ms(stores: Sequence[LocationDoc], start: datetime, days: int) -> Ints:
    """UTC offset per (home store, day) in ms; row -1 (no home store) uses Berlin time."""
    zones = [ZoneInfo(s["timezone"]) for s in stores] + [ZoneInfo("Europe/Berlin")]
    noons = [start + timedelta(days=d, hours=12) for d in range(days)]
    return np.array(
        [
            [int(zone.utcoffset(noon).total_seconds() * 1000) for noon in noons]  # type: ignore[union-attr]
            for zone in zones
        ],
        dtype=np.int64,
    )
