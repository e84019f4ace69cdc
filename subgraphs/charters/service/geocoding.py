"""Coordinates for stops entered with an address only: a port and its Nominatim adapter.

Pricing estimates a trip's distance from its stops' coordinates when the
agent entered no miles, so a stop saved without them is located here
first. Locating is best effort: a geocoder that is down, slow or finds
nothing leaves the coordinates empty (one log line) and never fails the
save; with no geocoder configured (`geocoding_url` empty) coordinates are
entered by hand.

Lookups run before the save's transaction (see the mutations), so no row
lock or pooled connection waits on the network.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Protocol

import httpx

if TYPE_CHECKING:
    from subgraphs.kit.context import Services
    from subgraphs.kit.settings import Settings

log = logging.getLogger(__name__)

Coordinates = tuple[Decimal, Decimal]
#: Stops keep coordinates to six places (about 10 cm), as `Stop.latitude` stores them.
PLACES = Decimal("0.000001")
#: Nominatim's usage policy asks for a User-Agent that names the application.
USER_AGENT = "Athena charter operations (itinerary stop geocoding; athena.local)"
DEFAULT_TIMEOUT_SECONDS = 3.0
#: Distinct addresses remembered per process; the oldest is forgotten first.
DEFAULT_CACHE_SIZE = 2048
#: The most one save waits for the geocoder, whatever the number of stops.
LOCATE_BUDGET_SECONDS = 5.0
#: The longest address a stop takes (`validation`), so the longest sent.
MAX_ADDRESS = 500
#: `Services.extra` key under which a process (or a test) installs its own geocoder.
EXTRA_KEY = "geocoder"


class Geocoder(Protocol):
    async def locate(self, address: str) -> Coordinates | None:
        """The address's (latitude, longitude), or None when it cannot be located now."""
        ...


class NominatimGeocoder:
    """A Nominatim-compatible `/search` API (OpenStreetMap's, or one run in-house).

    Answers are cached per normalised address for the process's life, hits
    and "found nothing" alike (the policy forbids repeating a query);
    failures are not cached, so the next save tries again.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.cache_size = cache_size
        self._cache: OrderedDict[str, Coordinates | None] = OrderedDict()

    async def locate(self, address: str) -> Coordinates | None:
        key = " ".join(address.split()).casefold()
        if not key:
            return None
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        try:
            found = await self._search(address.strip())
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("geocoding unavailable, stop saved without coordinates: %s", exc)
            return None
        if found is None:
            log.info("geocoding found no place for a stop's address; saved without coordinates")
        self._cache[key] = found
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return found

    async def _search(self, address: str) -> Coordinates | None:
        # A client per lookup: lookups are rare and cached, and a client bound to
        # one event loop must not outlive it.
        async with httpx.AsyncClient(
            timeout=self.timeout,
            headers={"User-Agent": USER_AGENT},
        ) as client:
            response = await client.get(
                f"{self.base_url}/search",
                params={"q": address, "format": "jsonv2", "limit": "1"},
            )
            response.raise_for_status()
            results = response.json()
        if not isinstance(results, list):
            raise ValueError("the geocoder answered something other than a list")
        if not results:
            return None
        return _coordinates(results[0])


def _coordinates(place: Any) -> Coordinates:
    """A place's lat/lon (strings in Nominatim's JSON), checked like an entered stop's."""
    try:
        lat = Decimal(str(place["lat"])).quantize(PLACES)
        lon = Decimal(str(place["lon"])).quantize(PLACES)
    except (KeyError, TypeError, InvalidOperation) as exc:
        raise ValueError("the geocoder's place has no usable lat/lon") from exc
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("the geocoder's place is off the globe")
    return lat, lon


_configured: dict[str, NominatimGeocoder] = {}


def from_settings(settings: Settings) -> Geocoder | None:
    """The process's geocoder for `geocoding_url`, one per URL so its cache lives on."""
    url = settings.geocoding_url.strip()
    if not url:
        return None
    if url not in _configured:
        _configured[url] = NominatimGeocoder(url)
    return _configured[url]


def for_services(services: Services) -> Geocoder | None:
    """The geocoder a subgraph process uses: one installed in `Services.extra`, else settings'."""
    if EXTRA_KEY in services.extra:
        installed: Geocoder | None = services.extra[EXTRA_KEY]
        return installed
    return from_settings(services.settings)


def needs_location(stop: dict[str, Any]) -> bool:
    """An address with neither coordinate: one given by hand is kept as given.

    An address the save will refuse anyway (over 500 characters) is not sent.
    """
    address = (stop.get("address") or "").strip()
    return (
        0 < len(address) <= MAX_ADDRESS
        and stop.get("latitude") is None
        and stop.get("longitude") is None
    )


async def locate(
    geocoder: Geocoder | None,
    stops: list[dict[str, Any]],
    budget_seconds: float = LOCATE_BUDGET_SECONDS,
) -> tuple[Coordinates | None, ...]:
    """What the geocoder finds for each stop that needs it (by position; None elsewhere).

    One after another (Nominatim's policy forbids parallel bursts), within
    `budget_seconds` for the whole itinerary: stops not reached in time stay
    without coordinates rather than hold the save up.
    """
    found: list[Coordinates | None] = [None] * len(stops)
    if geocoder is None:
        return tuple(found)
    try:
        async with asyncio.timeout(budget_seconds):
            for index, stop in enumerate(stops):
                if needs_location(stop):
                    found[index] = await geocoder.locate(str(stop["address"]))
    except TimeoutError:
        log.warning(
            "geocoding took over %ss; remaining stops saved without coordinates", budget_seconds
        )
    return tuple(found)


def fill(stops: list[dict[str, Any]], found: Sequence[Coordinates | None]) -> list[dict[str, Any]]:
    """`stops` with `found` coordinates (from `locate`) where a stop still has none.

    Coordinates go in as Decimal strings, as snapshots (JSON) hold them.
    """
    filled = []
    for index, stop in enumerate(stops):
        place = found[index] if index < len(found) else None
        if place is not None and needs_location(stop):
            stop = {**stop, "latitude": str(place[0]), "longitude": str(place[1])}
        filled.append(stop)
    return filled
