"""GraphQL operations and small steps shared by the charters core tests."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from tests.support.graphql_client import GraphQLClient

ERRORS = "userErrors { field code message }"

CHARTER_FIELDS = """id reference status passengerCount pickupLocal pickupTimeZone notes
  totalCapacity totalCost splitFrom { id reference }
  stops { id position type address }
  vehicles { id capacity cost status vehicleType { id name } vehicle { id } driver { id } }"""

CHARTER = f"query($id: ID!) {{ charter(id: $id) {{ {CHARTER_FIELDS} }} }}"

SET_STATUS = f"""mutation($id: ID!, $status: CharterStatus!) {{
  setCharterStatus(id: $id, status: $status) {{ charter {{ id status }} {ERRORS} }} }}"""

CASE_FIELDS = """id caseNumber changeType status priority impactLevel title reason before after
  currentPrice proposedPrice requiresApproval requiresManager decisionNotes implementedAt
  requestedBy { id } charter { id status passengerCount }
  history { fromStatus toStatus actor { id } notes }"""

REQUEST_CHANGE = f"""mutation($charterId: ID!, $input: RequestChangeInput!) {{
  requestCharterChange(charterId: $charterId, input: $input) {{
    changeCase {{ {CASE_FIELDS} }} {ERRORS} }} }}"""

MOVE_CASE = f"""mutation($id: ID!, $status: ChangeCaseStatus!, $notes: String) {{
  moveChangeCase(id: $id, status: $status, notes: $notes) {{
    changeCase {{ {CASE_FIELDS} }} {ERRORS} }} }}"""

IMPLEMENT_CASE = f"""mutation($id: ID!) {{
  implementChangeCase(id: $id) {{ changeCase {{ {CASE_FIELDS} }} {ERRORS} }} }}"""

CASES_OF = f"""query($id: ID!) {{ charter(id: $id) {{
  changeCases(first: 100) {{ edges {{ node {{ {CASE_FIELDS} }} }} }} }} }}"""

CREATE_VEHICLE = f"""mutation($plate: String!, $type: ID!) {{
  createVehicle(plate: $plate, vehicleTypeId: $type) {{ vehicle {{ id plate status }} {ERRORS} }} }}"""

CREATE_DRIVER = f"""mutation($userId: ID!, $name: String!, $expires: Date!) {{
  createDriver(userId: $userId, name: $name, licenceClass: "CDL-B", licenceExpiresOn: $expires) {{
    driver {{ id name }} {ERRORS} }} }}"""

ASSIGN = f"""mutation($cv: ID!, $vehicle: ID, $driver: ID) {{
  assignCharterVehicle(charterVehicleId: $cv, vehicleId: $vehicle, driverId: $driver) {{
    charterVehicle {{ id status vehicle {{ id }} driver {{ id }} }} {ERRORS} }} }}"""

CANCEL = f"""mutation($id: ID!, $reason: String!, $fee: Money) {{
  cancelCharter(id: $id, reason: $reason, fee: $fee) {{
    charter {{ id status cancellation {{ cancelledAt reason fee cancelledBy {{ id }} }} }}
    {ERRORS} }} }}"""


async def read_charter(client: GraphQLClient, charter_id: str) -> dict[str, Any]:
    return (await client(CHARTER, {"id": charter_id})).ok()["charter"]  # type: ignore[no-any-return]


async def book(client: GraphQLClient, charter_id: str) -> None:
    payload = (await client(SET_STATUS, {"id": charter_id, "status": "BOOKED"})).ok()[
        "setCharterStatus"
    ]
    assert payload["userErrors"] == [], payload["userErrors"]


async def fleet_vehicle(client: GraphQLClient, type_id: str) -> dict[str, Any]:
    payload = (
        await client(CREATE_VEHICLE, {"plate": f"P-{uuid.uuid4().hex[:8]}", "type": type_id})
    ).ok()["createVehicle"]
    assert payload["userErrors"] == []
    return payload["vehicle"]  # type: ignore[no-any-return]


async def fleet_driver(client: GraphQLClient) -> dict[str, Any]:
    expires = (date.today() + timedelta(days=800)).isoformat()
    payload = (
        await client(
            CREATE_DRIVER, {"userId": str(uuid.uuid4()), "name": "Dana Driver", "expires": expires}
        )
    ).ok()["createDriver"]
    assert payload["userErrors"] == []
    return payload["driver"]  # type: ignore[no-any-return]


def nodes(connection: dict[str, Any]) -> list[Any]:
    """The nodes of one connection page, in order."""
    return [edge["node"] for edge in connection["edges"]]


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]
