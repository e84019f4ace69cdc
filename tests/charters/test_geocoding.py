"""Stops saved with an address and no coordinates get them from a Nominatim-compatible API.

A small local server answers `/search` as Nominatim does (a JSON list of
places, `lat`/`lon` as strings); a charters app configured with its URL
locates stops on create and on itinerary edits. A geocoder that is down,
errs or finds nothing never fails the save.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from db.embedded import free_port
from subgraphs.charters.app import create_app
from subgraphs.charters.service import geocoding
from subgraphs.kit.settings import Settings
from tests.support.charters_fixtures import future_local, register_client
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve
from tests.support.tokens import TokenMinter

ERRORS = "userErrors { field code message }"
STOPS = "stops { id position address latitude longitude notes }"
CREATE = f"""mutation($input: CreateCharterInput!) {{
  createCharter(input: $input) {{ charter {{ id {STOPS} }} {ERRORS} }} }}"""
ADD = f"""mutation($c: ID!, $stop: StopInput!) {{
  addStop(charterId: $c, stop: $stop) {{ charter {{ {STOPS} }} {ERRORS} }} }}"""
UPDATE = f"""mutation($c: ID!, $s: ID!, $stop: StopPatch!) {{
  updateStop(charterId: $c, stopId: $s, stop: $stop) {{ charter {{ {STOPS} }} {ERRORS} }} }}"""
READ = f"query($id: ID!) {{ charter(id: $id) {{ {STOPS} }} }}"


@dataclass
class FakeNominatim:
    """Knows a few places; answers 500 for addresses containing FAIL while `failing`."""

    places: dict[str, tuple[str, str]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    failing: bool = True
    server: LiveServer | None = None

    def queries(self) -> list[str]:
        return [r.query_params["q"] for r in self.requests]

    async def search(self, request: Request) -> Response:
        self.requests.append(request)
        q = request.query_params.get("q", "")
        if "FAIL" in q and self.failing:
            return JSONResponse({"error": "overloaded"}, status_code=500)
        place = self.places.get(q)
        if place is None:
            return JSONResponse([])
        lat, lon = place
        return JSONResponse(
            [{"place_id": 1, "lat": lat, "lon": lon, "display_name": q, "category": "place"}]
        )


@pytest.fixture(scope="module")
async def nominatim() -> AsyncIterator[FakeNominatim]:
    fake = FakeNominatim()
    app = Starlette(routes=[Route("/search", fake.search, methods=["GET"])])
    async with serve(app) as server:
        fake.server = server
        yield fake


@pytest.fixture
def places(nominatim: FakeNominatim) -> FakeNominatim:
    """The fake with a clean slate; each test names its own addresses (the cache lives on)."""
    nominatim.requests.clear()
    nominatim.places.clear()
    nominatim.failing = True
    return nominatim


@pytest.fixture(scope="module")
async def geo_app(
    subgraph_settings: Settings, nominatim: FakeNominatim
) -> AsyncIterator[tuple[Starlette, LiveServer]]:
    """A charters app whose `geocoding_url` is the fake's."""
    assert nominatim.server is not None
    settings = subgraph_settings.model_copy(update={"geocoding_url": nominatim.server.base_url})
    app = create_app(settings)
    async with serve(app) as server:
        yield app, server


@pytest.fixture
async def geo(
    geo_app: tuple[Starlette, LiveServer], http_client: httpx.AsyncClient, mint: TokenMinter
) -> GraphQLClient:
    return GraphQLClient(geo_app[1].graphql_url, http_client, await mint("manager"))


def unique(label: str) -> str:
    return f"{label} {uuid.uuid4().hex[:8]}"


async def create(caller: GraphQLClient, stops: list[dict[str, Any]]) -> dict[str, Any]:
    charter_input = {
        "clientId": await register_client(caller),
        "tripType": "ONE_WAY",
        "passengerCount": 20,
        "pickupLocal": future_local(20),
        "pickupTimeZone": "America/Chicago",
        "stops": stops,
    }
    payload = (await caller(CREATE, {"input": charter_input})).ok()["createCharter"]
    assert payload["userErrors"] == []
    return payload["charter"]  # type: ignore[no-any-return]


def coordinates(stop: dict[str, Any]) -> tuple[Any, Any]:
    return stop["latitude"], stop["longitude"]


async def test_a_stop_without_coordinates_gets_them_on_create(geo, places):
    arena, hotel = unique("1 Arena Way, Dallas TX"), unique("500 Elm St, Fort Worth TX")
    places.places.update({arena: ("32.790300", "-96.810300"), hotel: ("32.755100", "-97.330800")})

    charter = await create(
        geo, [{"type": "PICKUP", "address": arena}, {"type": "DROPOFF", "address": hotel}]
    )

    assert [coordinates(s) for s in charter["stops"]] == [
        (32.7903, -96.8103),
        (32.7551, -97.3308),
    ]
    assert places.queries() == [arena, hotel]
    sent = places.requests[0]
    assert sent.query_params["format"] == "jsonv2"
    assert sent.query_params["limit"] == "1"
    assert sent.headers["user-agent"] == geocoding.USER_AGENT
    stored = (await geo(READ, {"id": charter["id"]})).ok()["charter"]["stops"]
    assert [coordinates(s) for s in stored] == [(32.7903, -96.8103), (32.7551, -97.3308)]


async def test_coordinates_given_by_hand_are_kept_and_not_looked_up(geo, places):
    depot, venue = unique("Depot"), unique("Venue")
    places.places.update({depot: ("10.000000", "10.000000"), venue: ("33.000000", "-97.000000")})

    charter = await create(
        geo,
        [
            {"type": "PICKUP", "address": depot, "latitude": 32.5, "longitude": -96.5},
            {"type": "DROPOFF", "address": venue},
        ],
    )

    assert [coordinates(s) for s in charter["stops"]] == [(32.5, -96.5), (33.0, -97.0)]
    assert places.queries() == [venue]


async def test_itinerary_edits_locate_a_new_or_changed_address(geo, places):
    start, end = unique("Start"), unique("End")
    museum, gallery = unique("Museum of Art"), unique("Gallery")
    places.places.update(
        {
            start: ("30.000000", "-95.000000"),
            end: ("31.000000", "-96.000000"),
            museum: ("30.500000", "-95.500000"),
            gallery: ("30.600000", "-95.600000"),
        }
    )
    charter = await create(
        geo, [{"type": "PICKUP", "address": start}, {"type": "DROPOFF", "address": end}]
    )

    added = (
        await geo(ADD, {"c": charter["id"], "stop": {"type": "WAYPOINT", "address": museum}})
    ).ok()["addStop"]
    waypoint = added["charter"]["stops"][2]
    moved = (
        await geo(UPDATE, {"c": charter["id"], "s": waypoint["id"], "stop": {"address": gallery}})
    ).ok()["updateStop"]
    places.requests.clear()
    noted = (
        await geo(UPDATE, {"c": charter["id"], "s": waypoint["id"], "stop": {"notes": "Lunch"}})
    ).ok()["updateStop"]

    assert added["userErrors"] == []
    assert coordinates(waypoint) == (30.5, -95.5)
    assert moved["userErrors"] == []
    assert coordinates(moved["charter"]["stops"][2]) == (30.6, -95.6)
    # A patch that leaves the address alone looks nothing up and keeps the coordinates.
    assert places.queries() == []
    assert noted["charter"]["stops"][2]["notes"] == "Lunch"
    assert coordinates(noted["charter"]["stops"][2]) == (30.6, -95.6)


async def test_an_address_the_geocoder_does_not_know_is_saved_without_coordinates(geo, places):
    nowhere = unique("Nowhere Lane")

    charter = await create(geo, [{"type": "PICKUP", "address": nowhere}])

    assert coordinates(charter["stops"][0]) == (None, None)
    assert places.queries() == [nowhere]


async def test_an_erroring_geocoder_leaves_coordinates_empty_and_the_save_succeeds(
    geo, places, caplog
):
    flaky = unique("FAIL 12 Storm Rd")
    places.places[flaky] = ("35.000000", "-98.000000")
    caplog.set_level(logging.INFO, logger=geocoding.__name__)

    first = await create(geo, [{"type": "PICKUP", "address": flaky}])
    warnings = [r for r in caplog.records if r.name == geocoding.__name__]
    places.failing = False
    again = await create(geo, [{"type": "PICKUP", "address": flaky}])

    assert coordinates(first["stops"][0]) == (None, None)
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    # A failure is not remembered: the next save asks again and gets the place.
    assert coordinates(again["stops"][0]) == (35.0, -98.0)
    assert places.queries() == [flaky, flaky]


async def test_a_retry_with_the_same_idempotency_key_is_the_same_request_whatever_the_geocoder(
    geo, places
):
    flaky = unique("FAIL 3 Retry Rd")
    places.places[flaky] = ("35.500000", "-98.500000")
    charter_input = {
        "clientId": await register_client(geo),
        "tripType": "ONE_WAY",
        "passengerCount": 20,
        "pickupLocal": future_local(21),
        "pickupTimeZone": "America/Chicago",
        "stops": [{"type": "PICKUP", "address": flaky}],
        "idempotencyKey": unique("retry"),
    }

    first = (await geo(CREATE, {"input": charter_input})).ok()["createCharter"]
    places.failing = False
    retry = (await geo(CREATE, {"input": charter_input})).ok()["createCharter"]

    # The geocoder answered only the retry: its coordinates are not part of the request.
    assert places.queries() == [flaky, flaky]
    assert retry["userErrors"] == []
    assert retry["charter"]["id"] == first["charter"]["id"]
    assert coordinates(retry["charter"]["stops"][0]) == (None, None)


async def test_an_unreachable_geocoder_leaves_coordinates_empty_and_the_save_succeeds(
    geo_app, geo, places
):
    app, _ = geo_app
    down = geocoding.NominatimGeocoder(f"http://127.0.0.1:{free_port()}")
    address = unique("1 Dark Street")
    places.places[address] = ("36.000000", "-99.000000")
    app.state.services.extra[geocoding.EXTRA_KEY] = down
    try:
        charter = await create(geo, [{"type": "PICKUP", "address": address}])
    finally:
        del app.state.services.extra[geocoding.EXTRA_KEY]

    assert coordinates(charter["stops"][0]) == (None, None)
    assert places.queries() == []


async def test_answers_are_cached_per_address(geo, places):
    address = unique("77 Cache Ave")
    places.places[address] = ("34.000000", "-97.500000")

    first = await create(geo, [{"type": "PICKUP", "address": address}])
    second = await create(geo, [{"type": "PICKUP", "address": "  " + address.upper() + " "}])

    assert coordinates(first["stops"][0]) == coordinates(second["stops"][0]) == (34.0, -97.5)
    assert places.queries() == [address]


async def test_without_a_geocoding_url_nothing_is_looked_up(staff, places, subgraph_settings):
    address = unique("5 Plain St")
    places.places[address] = ("33.300000", "-96.600000")

    charter = await create(staff, [{"type": "PICKUP", "address": address}])

    assert subgraph_settings.geocoding_url == ""
    assert geocoding.from_settings(subgraph_settings) is None
    assert coordinates(charter["stops"][0]) == (None, None)
    assert places.queries() == []


def test_fill_adds_found_coordinates_only_where_none_were_given():
    stops = [
        {"address": "A", "latitude": None, "longitude": None},
        {"address": "B", "latitude": 1.5, "longitude": None},
        {"address": "C", "latitude": None, "longitude": None},
    ]
    found = [(Decimal("1.000000"), Decimal("2.000000")), (Decimal(9), Decimal(9)), None]

    filled = geocoding.fill(stops, found)

    assert filled == [
        {"address": "A", "latitude": "1.000000", "longitude": "2.000000"},
        {"address": "B", "latitude": 1.5, "longitude": None},
        {"address": "C", "latitude": None, "longitude": None},
    ]
