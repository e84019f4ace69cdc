"""A driver's portal on the charters subgraph: the trips it drives, no money."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from tests.charters.ops import ASSIGN, CREATE_DRIVER, book, fleet_vehicle
from tests.support.graphql_client import GraphQLClient, GraphQLResponse

MY_TRIPS = """
{ myTrips {
    id capacity pickupAddress vehicleType { name } vehicle { plate } cost
    charter { reference passengerCount pickupContactName pickupContactPhone driverInstructions
      vendorInstructions totalCost notes stops { address } }
} }"""

CHARTER = """query($id: ID!) { charter(id: $id) { reference stops { address } } }"""

INSTRUCT = """
mutation($id: ID!, $input: CharterInstructionsInput!) {
  setCharterInstructions(id: $id, input: $input) {
    charter { pickupContactName driverInstructions vendorInstructions }
    userErrors { field code message }
  }
}"""


def errors_at(response: GraphQLResponse) -> dict[str, str]:
    return {".".join(str(p) for p in e["path"]): e["extensions"]["code"] for e in response.errors}


async def linked_driver(staff: GraphQLClient, user_id: uuid.UUID) -> str:
    expires = (date.today() + timedelta(days=800)).isoformat()
    payload = (
        await staff(
            CREATE_DRIVER, {"userId": str(user_id), "name": "Dana Diaz", "expires": expires}
        )
    ).ok()["createDriver"]
    assert payload["userErrors"] == []
    return payload["driver"]["id"]  # type: ignore[no-any-return]


async def driven_charter(
    staff: GraphQLClient, bookable_charter: Any, driver_id: str, days: int
) -> dict[str, Any]:
    charter = await bookable_charter(days=days)
    await book(staff, charter["id"])
    types = (
        await staff(
            "query($id: ID!) { charter(id: $id) { vehicles { vehicleType { id } } } }",
            {"id": charter["id"]},
        )
    ).ok()["charter"]["vehicles"]
    type_id = types[0]["vehicleType"]["id"]
    bus = await fleet_vehicle(staff, type_id)
    assigned = (
        await staff(
            ASSIGN,
            {"cv": charter["vehicles"][0]["id"], "vehicle": bus["id"], "driver": driver_id},
        )
    ).ok()["assignCharterVehicle"]
    assert assigned["userErrors"] == [], assigned
    return {**charter, "plate": bus["plate"]}


async def test_a_driver_reads_its_trips_of_the_coming_week_without_money(
    staff, bookable_charter, as_role
):
    user_id = uuid.uuid4()
    driver_id = await linked_driver(staff, user_id)
    soon = await driven_charter(staff, bookable_charter, driver_id, days=2)
    await driven_charter(staff, bookable_charter, driver_id, days=20)  # beyond the week
    instructed = (
        await staff(
            INSTRUCT,
            {
                "id": soon["id"],
                "input": {
                    "pickupContactName": "Pat Lee",
                    "pickupContactPhone": "+1 312 555 0100",
                    "driverInstructions": "Use the north gate.",
                    "vendorInstructions": "Invoice within 7 days.",
                },
            },
        )
    ).ok()["setCharterInstructions"]
    assert instructed["userErrors"] == []
    driver = await as_role("driver", user_id=user_id)

    answer = await driver(MY_TRIPS)

    (trip,) = answer.data["myTrips"]
    assert trip["vehicle"] == {"plate": soon["plate"]}
    assert trip["cost"] is None
    charter = trip["charter"]
    assert charter["reference"] == soon["reference"]
    assert charter["pickupContactName"] == "Pat Lee"
    assert charter["pickupContactPhone"] == "+1 312 555 0100"
    assert charter["driverInstructions"] == "Use the north gate."
    assert [s["address"] for s in charter["stops"]] == [
        "1 Main St, Springfield",
        "9 Lake Rd, Shelbyville",
    ]
    assert charter["vendorInstructions"] is None
    assert charter["totalCost"] is None
    assert charter["notes"] is None
    assert errors_at(answer) == {
        "myTrips.0.cost": "FORBIDDEN",
        "myTrips.0.charter.vendorInstructions": "FORBIDDEN",
        "myTrips.0.charter.totalCost": "FORBIDDEN",
        "myTrips.0.charter.notes": "FORBIDDEN",
    }


async def test_another_driver_sees_no_trip_and_no_charter(staff, bookable_charter, as_role):
    driver_id = await linked_driver(staff, uuid.uuid4())
    trip = await driven_charter(staff, bookable_charter, driver_id, days=2)
    other_user = uuid.uuid4()
    await linked_driver(staff, other_user)
    other = await as_role("driver", user_id=other_user)

    assert (await other(MY_TRIPS)).ok() == {"myTrips": []}
    refused = await other(CHARTER, {"id": trip["id"]})
    assert refused.error_codes == ["NOT_FOUND"]


async def test_a_driver_account_without_a_fleet_driver_has_no_trips(as_role):
    driver = await as_role("driver")
    assert (await driver(MY_TRIPS)).ok() == {"myTrips": []}


async def test_instructions_are_audited_and_limited(staff, bookable_charter):
    charter = await bookable_charter()
    too_long = await staff(
        INSTRUCT, {"id": charter["id"], "input": {"driverInstructions": "x" * 4001}}
    )
    assert too_long.ok()["setCharterInstructions"]["userErrors"] == [
        {"field": "driverInstructions", "code": "TOO_LONG", "message": "At most 4000 characters."}
    ]
    (await staff(INSTRUCT, {"id": charter["id"], "input": {"driverInstructions": "Gate 4"}})).ok()
    log = (
        await staff(
            "query($id: ID!) { charter(id: $id) { auditLog(first: 1) { edges { node { action new } } } } }",
            {"id": charter["id"]},
        )
    ).ok()["charter"]["auditLog"]["edges"][0]["node"]
    assert log == {"action": "set_instructions", "new": {"driver_instructions": "Gate 4"}}
