"""Security review (issue 8): finding 3 (change-case approval) and finding 6, charters part.

Who must approve is decided from the price the system computes for the
implemented change, never from the requester's figure; nobody approves
their own case. Impersonated sessions cannot write, and every audit trail
charters keeps records the real actor beside the subject.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.charters.models import AuditEntry, ChangeCaseEvent
from subgraphs.charters.service import change_cases, charters, fleet
from subgraphs.charters.service.change_cases import ApprovalPolicy, ChangeRequest
from subgraphs.identity.access_tokens import issue_access_token
from tests.charters.ops import (
    CASES_OF,
    MOVE_CASE,
    REQUEST_CHANGE,
    book,
    codes,
    nodes,
    read_charter,
)
from tests.support.charters_fixtures import CREATE_CHARTER, client_event, future_local


async def _booked(staff, bookable_charter):
    charter = await bookable_charter()  # one vehicle at 1250.00
    await book(staff, charter["id"])
    return await read_charter(staff, charter["id"])


async def _file(client, charter, **input_):
    data = {"changeType": "VEHICLE_CHANGE", "title": "Bigger coach", **input_}
    payload = (await client(REQUEST_CHANGE, {"charterId": charter["id"], "input": data})).ok()[
        "requestCharterChange"
    ]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload["changeCase"]


async def _approve(client, case_id):
    # Issue 9 (seed 002): approving needs notes (and a reviewed case, see below).
    return (
        await client(MOVE_CASE, {"id": case_id, "status": "APPROVED", "notes": "Approved"})
    ).ok()["moveChangeCase"]


def _vehicles(charter, *costs):
    type_id = charter["vehicles"][0]["vehicleType"]["id"]
    return [{"vehicleTypeId": type_id, "cost": cost} for cost in costs]


async def test_finding_3_a_9000_change_without_a_proposed_price_needs_a_manager(
    staff, as_role, bookable_charter
):
    charter = await _booked(staff, bookable_charter)
    agent_filed = await _file(
        staff, charter, changes={"vehicles": _vehicles(charter, "1250.00", "9000.00")}
    )
    support = await as_role("sales_support")

    refused = await _approve(support, agent_filed["id"])

    assert agent_filed["proposedPrice"] is None
    assert agent_filed["currentPrice"] == "1250.00"
    assert agent_filed["requiresManager"] is True
    assert refused["changeCase"] is None
    assert codes(refused) == [(None, "FORBIDDEN")]
    cases = nodes((await staff(CASES_OF, {"id": charter["id"]})).ok()["charter"]["changeCases"])
    assert [c["status"] for c in cases] == ["PENDING"]
    assert cases[0]["after"]["vehicles"][1]["cost"] == "9000.00"


async def test_finding_3_a_low_proposed_price_does_not_lower_the_approval_level(
    staff, as_role, bookable_charter
):
    charter = await _booked(staff, bookable_charter)
    case = await _file(
        staff,
        charter,
        proposedPrice="1250.00",
        changes={"vehicles": _vehicles(charter, "1250.00", "9000.00")},
    )
    support = await as_role("sales_support")

    refused = await _approve(support, case["id"])

    assert case["requiresManager"] is True
    assert codes(refused) == [(None, "FORBIDDEN")]


async def test_finding_3_a_manager_cannot_approve_its_own_case(staff, as_role, bookable_charter):
    charter = await _booked(staff, bookable_charter)
    requester_id = uuid.uuid4()
    requester = await as_role("manager", user_id=requester_id)
    case = await _file(requester, charter, changes={"vehicles": _vehicles(charter, "1300.00")})
    another_manager = await as_role("manager")

    own = await _approve(requester, case["id"])
    await another_manager(MOVE_CASE, {"id": case["id"], "status": "UNDER_REVIEW"})  # issue 9
    other = await _approve(another_manager, case["id"])

    assert case["requestedBy"] == {"id": str(requester_id)}
    assert own["changeCase"] is None
    assert codes(own) == [(None, "FORBIDDEN")]
    assert other["changeCase"]["status"] == "APPROVED"


async def test_finding_3_an_admin_cannot_approve_its_own_case(staff, as_role, bookable_charter):
    charter = await _booked(staff, bookable_charter)
    admin = await as_role("admin")
    case = await _file(admin, charter, changes={"vehicles": _vehicles(charter, "2500.00")})

    own = await _approve(admin, case["id"])

    assert codes(own) == [(None, "FORBIDDEN")]


async def test_finding_6_an_impersonated_session_cannot_write_charters(
    staff, charters_server, http_client, mint, known_client, vehicle_type
):
    token, _ = issue_access_token(
        await mint.keyring.active(),
        mint.settings,
        user_id=uuid.uuid4(),
        roles=["sales_agent"],
        session_id=uuid.uuid4(),
        impersonator_id=uuid.uuid4(),
    )
    vtype = await vehicle_type()
    data = {
        "clientId": await known_client(),
        "tripType": "ONE_WAY",
        "passengerCount": 10,
        "pickupLocal": future_local(20),
        "pickupTimeZone": "America/Chicago",
        "stops": [{"type": "PICKUP", "address": "A"}, {"type": "DROPOFF", "address": "B"}],
        "vehicles": [{"vehicleTypeId": vtype["id"], "cost": "100.00"}],
    }

    response = await staff(CREATE_CHARTER, {"input": data}, token=token)
    total = (await staff("{ charters { totalCount } }")).ok()["charters"]["totalCount"]

    assert response.error_codes == ["NOT_ALLOWED_WHILE_IMPERSONATING"]
    assert total == 0


async def test_finding_6_audit_entries_and_case_events_record_the_impersonator(sessions):
    """Service level: should a write ever be allowed while impersonating, it names both."""
    from subgraphs.charters.service import directory  # known clients (finding 12)

    staff_member = uuid.uuid4()
    acting = Viewer(
        user_id=uuid.uuid4(),
        roles=frozenset({Role.MANAGER}),
        impersonator_id=staff_member,
    )
    async with sessions() as session, session.begin():
        vtype = await fleet.create_vehicle_type(
            session, name="Coach I", capacity=56, description=None
        )
        client_id = uuid.uuid4()
        await directory.apply_client_event(session, client_event(client_id, "Acme"))
        charter = await charters.create(
            session,
            charters.NewCharter(
                client_id=client_id,
                trip_type="one_way",
                passenger_count=20,
                pickup_local=(datetime.now() + timedelta(days=20)).replace(
                    hour=9, minute=0, second=0, microsecond=0
                ),
                pickup_time_zone="Europe/Paris",
                stops=[
                    {"id": None, "stop_type": "pickup", "address": "A"},
                    {"id": None, "stop_type": "dropoff", "address": "B"},
                ],
                vehicles=[
                    {"id": None, "vehicle_type_id": str(vtype.id), "capacity": 56, "cost": "900.00"}
                ],
            ),
            acting,
        )
        await charters.transition(session, charter.id, "booked", acting)
        await change_cases.request_change(
            session,
            charter.id,
            {"notes": "Gate 4"},
            ChangeRequest("other", "Gate"),
            acting,
            ApprovalPolicy(),
        )
    async with sessions() as session:
        audit = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.charter_id == charter.id))
        )
        events = list(await session.scalars(select(ChangeCaseEvent)))

    assert audit
    assert {(a.actor_id, a.impersonator_id) for a in audit} == {(acting.user_id, staff_member)}
    assert [(e.actor_id, e.impersonator_id) for e in events] == [(acting.user_id, staff_member)]
