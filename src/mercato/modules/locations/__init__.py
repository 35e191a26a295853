"""Locations (stores, branches, warehouses). Public surface for other modules."""

from mercato.modules.locations.schemas import LocationWrite
from mercato.modules.locations.service import get_location, list_locations, upsert_location

__all__ = ["LocationWrite", "get_location", "list_locations", "upsert_location"]
