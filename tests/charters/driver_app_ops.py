"""A driver with a trip it can start now: shared by the driver app's tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from subgraphs.charters.models import outbox
from tests.charters.ops import ASSIGN, CREATE_DRIVER, SET_STATUS, book, fleet_vehicle
from tests.support.graphql_client import GraphQLClient

ERRORS = "userErrors { field code message }"
TRIP_FIELDS = """id reference charterStatus dispatchStatus startedAt completedAt confirmedAt
  passengerCount pickupAt pickupLocal pickupTimeZone dispatchPhone driverInstructions
  pickupContact { name phone }
  stops { id position type address latitude longitude plannedArrival arrivedAt departedAt }
  instructions { kind priority text }
  vehicle { plate } vehicleType { name }
  notes { text author { id } }
  photos { id kind contentType sizeBytes downloadPath uploadedBy { id } }
  checklist { item { id label } done completedAt completedBy { id } }"""
TRIP = f"query($id: ID!) {{ trip(id: $id) {{ {TRIP_FIELDS} }} }}"


def lifecycle(name: str, *args: str) -> str:
    params = ", ".join(f"${a}: ID!" for a in args)
    call = ", ".join(f"{a}: ${a}" for a in args)
    return f"""mutation({params}) {{ {name}({call}) {{
      trip {{ {TRIP_FIELDS} }} {ERRORS} }} }}"""


CONFIRM = lifecycle("confirmTrip", "id")
START = lifecycle("startTrip", "id")
COMPLETE = lifecycle("completeTrip", "id")
ARRIVE = lifecycle("arriveAtStop", "tripId", "stopId")
DEPART = lifecycle("departStop", "tripId", "stopId")
NOTE = f"""mutation($tripId: ID!, $text: String!) {{ addTripNote(tripId: $tripId, text: $text) {{
  note {{ text author {{ id }} }} trip {{ notes {{ text }} }} {ERRORS} }} }}"""

STOPS = [
    {
        "type": "PICKUP",
        "address": "1 Main St, Springfield",
        "latitude": 39.7817,
        "longitude": -89.6501,
    },
    {"type": "WAYPOINT", "address": "5 Elm St, Capital City", "latitude": 39.8, "longitude": -89.7},
    {
        "type": "DROPOFF",
        "address": "9 Lake Rd, Shelbyville",
        "latitude": 39.4064,
        "longitude": -88.7901,
    },
]


@dataclass
class DriverTrip:
    driver: GraphQLClient
    user_id: uuid.UUID
    driver_id: str
    trip_id: str
    charter: dict[str, Any]
    stop_ids: list[str]
    plate: str


def chicago_in(minutes: int) -> str:
    at = datetime.now(ZoneInfo("America/Chicago")) + timedelta(minutes=minutes)
    return at.replace(second=0, microsecond=0).isoformat(timespec="minutes")[:16]


async def new_driver(staff: GraphQLClient, as_role: Any) -> tuple[GraphQLClient, uuid.UUID, str]:
    user_id = uuid.uuid4()
    expires = (date.today() + timedelta(days=800)).isoformat()
    payload = (
        await staff(
            CREATE_DRIVER, {"userId": str(user_id), "name": "Dana Diaz", "expires": expires}
        )
    ).ok()["createDriver"]
    assert payload["userErrors"] == []
    return await as_role("driver", user_id=user_id), user_id, payload["driver"]["id"]


async def driver_trips(
    staff: GraphQLClient,
    bookable_charter: Any,
    as_role: Any,
    *,
    vehicles: int = 1,
    minutes_to_pickup: int = 60,
    confirm: bool = True,
) -> list[DriverTrip]:
    """A charter picking up soon with `vehicles` coaches, each driven by a new driver."""
    charter = await bookable_charter(
        vehicles=vehicles, pickupLocal=chicago_in(minutes_to_pickup), stops=STOPS
    )
    await book(staff, charter["id"])
    detail = (
        await staff(
            "query($id: ID!) { charter(id: $id) { stops { id } vehicles { id vehicleType { id } } } }",
            {"id": charter["id"]},
        )
    ).ok()["charter"]
    trips = []
    for vehicle in detail["vehicles"]:
        driver, user_id, driver_id = await new_driver(staff, as_role)
        bus = await fleet_vehicle(staff, vehicle["vehicleType"]["id"])
        assigned = (
            await staff(ASSIGN, {"cv": vehicle["id"], "vehicle": bus["id"], "driver": driver_id})
        ).ok()["assignCharterVehicle"]
        assert assigned["userErrors"] == [], assigned
        trips.append(
            DriverTrip(
                driver=driver,
                user_id=user_id,
                driver_id=driver_id,
                trip_id=vehicle["id"],
                charter=charter,
                stop_ids=[s["id"] for s in detail["stops"]],
                plate=bus["plate"],
            )
        )
    if confirm:
        moved = (await staff(SET_STATUS, {"id": charter["id"], "status": "CONFIRMED"})).ok()
        assert moved["setCharterStatus"]["userErrors"] == [], moved
    return trips


async def run(client: GraphQLClient, operation: str, **variables: str) -> dict[str, Any]:
    """The mutation's payload (its only root field)."""
    data = (await client(operation, variables)).ok()
    (payload,) = data.values()
    return payload  # type: ignore[no-any-return]


async def board_events(sessions: Any, charter_id: str) -> list[dict[str, Any]]:
    """What charters announced about the charter (the dispatch board's feed), in order."""
    async with sessions() as session:
        rows = await session.scalars(
            select(outbox.c.payload)
            .where(
                outbox.c.topic == "charters.charter_changed",
                outbox.c.payload["charterId"].astext == charter_id,
            )
            .order_by(outbox.c.id)
        )
        return list(rows)
