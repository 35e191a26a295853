"""Locations (stores, branches, warehouses). Public surface for other modules."""

from mercato.modules.locations.schemas import CODE_PATTERN, LocationWrite
from mercato.modules.locations.service import get_location, list_locations, upsert_location

__all__ = ["CODE_PATTERN", "LocationWrite", "get_location", "list_locations", "upsert_location"]
