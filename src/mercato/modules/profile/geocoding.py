"""Turn the profile's address into coordinates through a configured provider.

`Geocoder` is the provider interface. The one shipped speaks the Nominatim search API
(`MERCATO_GEOCODING_URL`, e.g. a self-hosted Nominatim, reached through egress); with no
provider configured the profile keeps no coordinates and says `skipped`, because made-up
coordinates would put the shop in the wrong place on a map.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx

from mercato import __version__
from mercato.kernel import egress
from mercato.modules.profile.schemas import Address
from mercato.settings import get_settings

TIMEOUT_S = 10.0


@dataclass(frozen=True, slots=True)
class GeoPoint:
    lat: float
    lon: float


class GeocodingFailed(Exception):
    """The provider could not be asked (network, error status, unreadable answer)."""


class Geocoder(Protocol):
    name: str

    async def geocode(self, address: Address) -> GeoPoint | None:
        """The address's coordinates; None when the provider knows no such place."""
        ...


class NominatimGeocoder:
    """Structured search against a Nominatim-compatible `/search` endpoint."""

    name = "nominatim"

    def __init__(self, base_url: str, user_agent: str) -> None:
        self._url = base_url.rstrip("/") + "/search"
        self._user_agent = user_agent

    async def geocode(self, address: Address) -> GeoPoint | None:
        params = {
            "format": "jsonv2",
            "limit": "1",
            "street": address.street_address or "",
            "city": address.locality or "",
            "state": address.region or "",
            "postalcode": address.postal_code or "",
            "countrycodes": (address.country_code or "").lower(),
        }
        try:
            async with egress.http_client(timeout_s=TIMEOUT_S) as http:
                response = await http.get(
                    self._url,
                    params={key: value for key, value in params.items() if value},
                    headers={"User-Agent": self._user_agent},
                )
            response.raise_for_status()
            places = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise GeocodingFailed(f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(places, list) or not places:
            return None
        try:
            return GeoPoint(lat=float(places[0]["lat"]), lon=float(places[0]["lon"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise GeocodingFailed(f"unreadable answer: {exc}") from exc


def configured_geocoder() -> Geocoder | None:
    settings = get_settings()
    if not settings.geocoding_url:
        return None
    return NominatimGeocoder(
        settings.geocoding_url, f"Mercato/{__version__} (+{settings.public_url})"
    )
