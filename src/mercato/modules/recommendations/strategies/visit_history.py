"""The products of the current visit as candidates: shoppers often go back to what they
just looked at (on some shops four next clicks in ten re-open the product just viewed).

Two sources so `auto` can weigh them apart: the product on screen (only ever shown when
the caller allows it, `include_context_product`) and the visit's earlier products, the
newest first.
"""

from __future__ import annotations

import numpy as np

from mercato.modules.recommendations.event_log import StrArray
from mercato.modules.recommendations.neighbours import recency_weights, strongest_per_product
from mercato.modules.recommendations.strategies.base import Context, Shortlist

VIEWED = "You viewed {}"


def on_screen(context: Context, labels: StrArray) -> Shortlist:
    if context.product < 0:
        return Shortlist.empty()
    product = np.array([context.product], dtype=np.int64)
    return Shortlist(product, np.ones(1), product, VIEWED, labels)


def viewed_earlier(context: Context, labels: StrArray, exponent: float) -> Shortlist:
    """The visit's products before the one on screen, the newest weighing most."""
    earlier = context.session[:-1] if context.product >= 0 else context.session
    if earlier.size == 0:
        return Shortlist.empty()
    weights = recency_weights(earlier.size, exponent)
    found = strongest_per_product(earlier, weights, earlier, total=False)
    return Shortlist.from_spread(found, VIEWED, labels)
