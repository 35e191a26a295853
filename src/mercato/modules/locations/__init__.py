"""Locations (stores, branches, warehouses). Public surface for other modules and the
dashboard: reading and upserting locations, with their shapes (`LocationWrite`, `Geo`)."""

from mercato.modules.locations.schemas import CODE_PATTERN, Geo, LocationWrite
from mercato.modules.locations.service import get_location, list_locations, upsert_location

__all__ = [
    "CODE_PATTERN",
    "Geo",
    "LocationWrite",
    "get_location",
    "list_locations",
    "upsert_location",
]
