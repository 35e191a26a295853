"""Visits in an event log: the time split that holds out the latest visits, and the
next-click queries a visit makes (shared by the offline evaluator and by `auto`'s choice
of weights, so both read data the same way).

A visit is a `session_id`, or for events without one, everything of that shopper.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from mercato.modules.recommendations.event_log import EventLog, StrArray
from mercato.modules.recommendations.interactions import SECONDS_PER_DAY, SIGNAL_OF_EVENT_TYPE


@dataclass(frozen=True)
class SessionPosition:
    visitor: str
    earlier: list[str]
    """Clicks of the session before this position, oldest first (never empty)."""
    target: str
    session: int
    """Number of the session in its log (positions of one session share it)."""


def visit_keys(events: EventLog) -> StrArray:
    prefixed = np.char.add("user:", events.user_id.astype(np.str_))
    keys: StrArray = np.where(events.session_id != "", events.session_id, prefixed)
    return keys


def interest_events(events: EventLog) -> EventLog:
    """Events about a product that say interest (views, carts, purchases)."""
    kinds = np.isin(events.type, list(SIGNAL_OF_EVENT_TYPE))
    return events.select(kinds & (events.product_id != "") & np.isfinite(events.timestamp))


def split_visits(
    events: EventLog, holdout_days: float, *, max_share: float = 0.2
) -> tuple[EventLog, EventLog, float]:
    """Visits that started before / from the cutoff, and the cutoff: the last
    `holdout_days`, or the last `max_share` of the time span when that is shorter (a
    log of a few days still keeps most of it for training)."""
    if len(events) == 0:
        return events, events, 0.0
    newest, oldest = float(events.timestamp.max()), float(events.timestamp.min())
    cutoff = newest - min(holdout_days * SECONDS_PER_DAY, max_share * (newest - oldest))
    keys, visit = np.unique(visit_keys(events), return_inverse=True)
    starts = np.full(keys.size, np.inf)
    np.minimum.at(starts, visit, events.timestamp)
    later = starts[visit] >= cutoff
    return events.select(~later), events.select(later), cutoff


def session_positions(test: EventLog) -> Iterator[SessionPosition]:
    """Every (clicks so far, next click) pair of every test session, in time order."""
    keys = visit_keys(test)
    order = np.lexsort((test.timestamp, keys))
    sessions, products = keys[order].tolist(), test.product_id[order].tolist()
    visitors = test.user_id[order].tolist()
    start, number = 0, 0
    for end in range(1, len(sessions) + 1):
        if end < len(sessions) and sessions[end] == sessions[start]:
            continue
        for position in range(start + 1, end):
            yield SessionPosition(
                visitors[position], products[start:position], products[position], number
            )
        start, number = end, number + 1
