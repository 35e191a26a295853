"""Seeded generators of two shop shapes that the YooChoose sample does not cover, so
`auto` is checked on more than one kind of data (`mercato reco generate`).

- `repeats`: anonymous click sessions where about 40 % of next clicks re-open the product
  just viewed and some go back to an earlier one (as on small fashion or grocery sites);
  the rest walk within a topic, so co-views carry signal too.
- `baskets`: retail invoices, one purchase event per line, whose lines are drawn mostly
  from a steep overall popularity: co-purchase signal is weak, best-sellers dominate,
  and customers re-buy a few of their own favourites.

Both are written as tracking events (`user_id`, `session_id`, `type`, `product_id`,
`timestamp`, `order_id`), the shape `--dataset sessions` and `mercato reco fit --events`
read. Nothing here is tuned to a result: the knobs are the shape's description.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from mercato.modules.recommendations.interactions import SECONDS_PER_DAY

START = 1_767_225_600.0
"""2026-01-01 00:00 UTC: the first day of every generated shop."""


class Shape(StrEnum):
    repeats = "repeats"
    baskets = "baskets"


@dataclass(frozen=True)
class RepeatsShape:
    products: int = 1_200
    topics: int = 60
    sessions: int = 5_000
    days: int = 30
    mean_length: float = 5.0
    repeat_last: float = 0.44
    back_to_earlier: float = 0.08
    same_topic: float = 0.6
    """Of the clicks that are no repeat: the share that stays in the session's topic."""


@dataclass(frozen=True)
class BasketsShape:
    products: int = 2_000
    customers: int = 2_500
    days: int = 60
    invoices_per_customer: float = 3.0
    mean_lines: float = 8.0
    popularity_exponent: float = 1.1
    favourite: float = 0.12
    """Share of lines re-buying one of the customer's earlier products."""
    complement: float = 0.05
    """Share of lines taken from the weak complement group of a line already in it."""


def _zipf(count: int, exponent: float, rng: np.random.Generator) -> np.ndarray[Any, Any]:
    """Probabilities proportional to 1/rank**exponent over a shuffled order."""
    weights = 1.0 / np.arange(1, count + 1, dtype=np.float64) ** exponent
    return rng.permutation(weights / weights.sum())


def _event(
    user: str, session: str, product: str, timestamp: float, order: str = ""
) -> dict[str, Any]:
    return {
        "user_id": user,
        "session_id": session,
        "type": "purchase" if order else "view_item",
        "product_id": product,
        "timestamp": round(timestamp, 3),
        "order_id": order,
    }


def repeat_sessions(shape: RepeatsShape, seed: int) -> Iterator[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    topic_of = rng.integers(0, shape.topics, shape.products)
    popularity = _zipf(shape.products, 0.9, rng)
    members = [np.flatnonzero(topic_of == topic) for topic in range(shape.topics)]
    within = [popularity[group] / popularity[group].sum() for group in members]
    starts = np.sort(rng.uniform(0, shape.days * SECONDS_PER_DAY, shape.sessions))
    for number, start in enumerate(starts):
        visitor = f"v{number:06d}"
        length = 2 + rng.geometric(1.0 / (shape.mean_length - 1.0)) - 1
        clicks = [int(rng.choice(shape.products, p=popularity))]
        while len(clicks) < length:
            draw = rng.random()
            if draw < shape.repeat_last:
                clicks.append(clicks[-1])
            elif draw < shape.repeat_last + shape.back_to_earlier and len(set(clicks)) > 1:
                clicks.append(int(rng.choice(clicks[:-1])))
            elif rng.random() < shape.same_topic:
                topic = int(topic_of[clicks[-1]])
                clicks.append(int(rng.choice(members[topic], p=within[topic])))
            else:
                clicks.append(int(rng.choice(shape.products, p=popularity)))
        moments = START + start + np.cumsum(rng.exponential(45.0, len(clicks)))
        for product, moment in zip(clicks, moments, strict=True):
            yield _event(visitor, visitor, f"p{product:05d}", float(moment))


def invoices(shape: BasketsShape, seed: int) -> Iterator[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    popularity = _zipf(shape.products, shape.popularity_exponent, rng)
    group_of = rng.integers(0, shape.products // 10, shape.products)
    counts = rng.poisson(shape.invoices_per_customer - 1, shape.customers) + 1
    owners = np.repeat(np.arange(shape.customers), counts)
    moments = rng.uniform(0, shape.days * SECONDS_PER_DAY, owners.size)
    bought: dict[int, list[int]] = {}
    for number in np.argsort(moments, kind="stable"):
        customer = int(owners[number])
        history = bought.setdefault(customer, [])
        size = rng.geometric(1.0 / shape.mean_lines)
        lines: list[int] = []
        for _ in range(8 * size):
            if len(lines) == size:
                break
            draw = rng.random()
            if draw < shape.favourite and history:
                product = int(rng.choice(history))
            elif draw < shape.favourite + shape.complement and lines:
                group = np.flatnonzero(group_of == group_of[int(rng.choice(lines))])
                product = int(rng.choice(group))
            else:
                product = int(rng.choice(shape.products, p=popularity))
            if product not in lines:
                lines.append(product)
        history.extend(lines)
        invoice = f"inv{number:06d}"
        user = f"c{customer:05d}"
        for line, product in enumerate(lines):
            moment = START + float(moments[number]) + 2.0 * line
            yield _event(user, invoice, f"p{product:05d}", moment, order=invoice)


def generate(shape: Shape, seed: int, *, size: float = 1.0) -> Iterator[dict[str, Any]]:
    """The events of a generated shop, oldest session first; `size` scales the number
    of products, topics and sessions or customers (tests use small shops)."""

    def scaled(count: int, least: int = 20) -> int:
        return max(least, round(count * size))

    if shape is Shape.repeats:
        clicks = RepeatsShape()
        return repeat_sessions(
            replace(
                clicks,
                products=scaled(clicks.products),
                topics=scaled(clicks.topics, 2),
                sessions=scaled(clicks.sessions),
            ),
            seed,
        )
    baskets = BasketsShape()
    return invoices(
        replace(baskets, products=scaled(baskets.products), customers=scaled(baskets.customers)),
        seed,
    )


def generate_file(shape: Shape, seed: int, path: Path, *, size: float = 1.0) -> int:
    """Write the events as JSON Lines; how many were written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("w", encoding="utf-8") as lines:
        for event in generate(shape, seed, size=size):
            lines.write(json.dumps(event) + "\n")
            written += 1
    return written
