"""Synthetic shop data for the demo, the benchmarks and the tests; no product code uses it.

- `generate_catalog` / `generate_locations`: a deterministic catalog (products in
  departments and leaf categories, valid GTINs) and the stores and warehouse selling it.
- `render_product_image`: a product's picture, drawn locally so the demo downloads nothing.
- `simulate`: the events of simulated shoppers, in time order and deterministic for a seed;
  `simulate_orders` the orders behind their purchases, `summarize` counts to compare copies.
- `write_ga4_export`: events as a GA4 BigQuery export, to exercise the GA4 importer.
- `simulate_into` / `simulate_to_ga4`: what `mercato simulate` runs.

It sits above the product modules and uses them only through their public `__init__`;
events it stores enter through `tracking.store_events` like any other.
"""

from mercato.simulation.catalog import (
    Catalog,
    LocationDoc,
    ProductDoc,
    generate_catalog,
    generate_locations,
)
from mercato.simulation.commands import simulate_into, simulate_to_ga4
from mercato.simulation.ga4_export import write_ga4_export
from mercato.simulation.images import render_product_image
from mercato.simulation.plan import SimulationPlan
from mercato.simulation.simulator import (
    EventSummary,
    OrderLine,
    SimulatedOrder,
    orders_from_events,
    plan_simulation,
    simulate,
    simulate_orders,
    summarize,
)

__all__ = [
    "Catalog",
    "EventSummary",
    "LocationDoc",
    "OrderLine",
    "ProductDoc",
    "SimulatedOrder",
    "SimulationPlan",
    "generate_catalog",
    "generate_locations",
    "orders_from_events",
    "plan_simulation",
    "render_product_image",
    "simulate",
    "simulate_into",
    "simulate_orders",
    "simulate_to_ga4",
    "summarize",
    "write_ga4_export",
]
