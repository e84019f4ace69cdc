"""Dispatch status of charter vehicles: who may move it, along which table."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select

from subgraphs.charters.models import AuditEntry, CharterVehicle, outbox

SET_STATUS = """
mutation($id: ID!, $status: CharterStatus!) {
  setCharterStatus(id: $id, status: $status) { charter { id status } userErrors { code } }
}"""

SET_DISPATCH = """
mutation($id: ID!, $status: DispatchStatus!, $note: String) {
  setDispatchStatus(charterVehicleId: $id, status: $status, note: $note) {
    charterVehicle { id dispatchStatus status charter { id reference } }
    userErrors { field code message }
  }
}"""


async def booked(staff: Any, bookable_charter: Any, **kwargs: Any) -> dict[str, Any]:
    charter = await bookable_charter(**kwargs)
    payload = (await staff(SET_STATUS, {"id": charter["id"], "status": "BOOKED"})).ok()
    assert payload["setCharterStatus"]["userErrors"] == []
    return charter


async def dispatch_state(sessions: Any, charter_vehicle_id: str) -> tuple[str, int, int]:
    """(dispatch status, audit entries about the vehicle, outbox rows)."""
    key = uuid.UUID(charter_vehicle_id)
    async with sessions() as session:
        status = await session.scalar(
            select(CharterVehicle.dispatch_status).where(CharterVehicle.id == key)
        )
        audits = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.entity_id == key)
        )
        events = await session.scalar(select(func.count()).select_from(outbox))
    return str(status), int(audits or 0), int(events or 0)


async def test_dispatcher_moves_a_vehicle_along_the_workflow_audited(
    staff, as_role, bookable_charter, sessions
):
    charter = await booked(staff, bookable_charter)
    vehicle_id = charter["vehicles"][0]["id"]
    dispatcher_id = uuid.uuid4()
    dispatcher = await as_role("dispatcher", user_id=dispatcher_id)

    ready = (await dispatcher(SET_DISPATCH, {"id": vehicle_id, "status": "READY"})).ok()
    dispatched = (
        await dispatcher(
            SET_DISPATCH, {"id": vehicle_id, "status": "DISPATCHED", "note": "  Left yard 6  "}
        )
    ).ok()

    assert ready["setDispatchStatus"]["userErrors"] == []
    assert ready["setDispatchStatus"]["charterVehicle"]["dispatchStatus"] == "READY"
    assert dispatched["setDispatchStatus"]["charterVehicle"] == {
        "id": vehicle_id,
        "dispatchStatus": "DISPATCHED",
        "status": "PENDING",
        "charter": {"id": charter["id"], "reference": charter["reference"]},
    }
    async with sessions() as session:
        entries = (
            await session.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity_id == uuid.UUID(vehicle_id))
                .where(AuditEntry.action.like("dispatch:%"))
                .order_by(AuditEntry.at, AuditEntry.action.desc())
            )
        ).all()
        payloads = (
            await session.scalars(select(outbox.c.payload).order_by(outbox.c.id.desc()).limit(1))
        ).all()
    assert [(e.action, e.actor_id, e.old, e.new) for e in entries] == [
        (
            "dispatch:ready",
            dispatcher_id,
            {"dispatch_status": "not_ready"},
            {"dispatch_status": "ready"},
        ),
        (
            "dispatch:dispatched",
            dispatcher_id,
            {"dispatch_status": "ready", "dispatch_note": None},
            {"dispatch_status": "dispatched", "dispatch_note": "Left yard 6"},
        ),
    ]
    assert payloads[0]["changes"] == ["dispatchStatus"]
    assert payloads[0]["charterId"] == charter["id"]
    assert payloads[0]["charterVehicleId"] == vehicle_id
    assert payloads[0]["dispatchStatus"] == "dispatched"
    assert payloads[0]["previousDispatchStatus"] == "ready"


async def test_skipping_a_step_is_an_invalid_transition_and_changes_nothing(
    staff, as_role, bookable_charter, sessions
):
    charter = await booked(staff, bookable_charter)
    vehicle_id = charter["vehicles"][0]["id"]
    before = await dispatch_state(sessions, vehicle_id)
    dispatcher = await as_role("dispatcher")

    payload = (await dispatcher(SET_DISPATCH, {"id": vehicle_id, "status": "ON_SITE"})).ok()[
        "setDispatchStatus"
    ]

    assert payload["charterVehicle"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        ("status", "INVALID_TRANSITION")
    ]
    assert "not_ready to on_site" in payload["userErrors"][0]["message"]
    assert await dispatch_state(sessions, vehicle_id) == before


async def test_a_quote_is_not_dispatched(staff, as_role, bookable_charter, sessions):
    charter = await bookable_charter()
    vehicle_id = charter["vehicles"][0]["id"]
    before = await dispatch_state(sessions, vehicle_id)
    dispatcher = await as_role("dispatcher")

    payload = (await dispatcher(SET_DISPATCH, {"id": vehicle_id, "status": "READY"})).ok()[
        "setDispatchStatus"
    ]

    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        ("charterVehicleId", "INVALID_TRANSITION")
    ]
    assert await dispatch_state(sessions, vehicle_id) == before


async def test_an_overlong_note_is_refused(staff, as_role, bookable_charter, sessions):
    charter = await booked(staff, bookable_charter)
    vehicle_id = charter["vehicles"][0]["id"]
    before = await dispatch_state(sessions, vehicle_id)
    dispatcher = await as_role("dispatcher")

    payload = (
        await dispatcher(SET_DISPATCH, {"id": vehicle_id, "status": "READY", "note": "x" * 1001})
    ).ok()["setDispatchStatus"]

    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("note", "TOO_LONG")]
    assert await dispatch_state(sessions, vehicle_id) == before


async def test_unknown_charter_vehicle_is_a_user_error(as_role):
    dispatcher = await as_role("dispatcher")

    for bad in (str(uuid.uuid4()), "not-a-uuid"):
        payload = (await dispatcher(SET_DISPATCH, {"id": bad, "status": "READY"})).ok()[
            "setDispatchStatus"
        ]
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            ("charterVehicleId", "NOT_FOUND")
        ]


async def test_only_dispatch_roles_may_change_it(staff, as_role, bookable_charter, sessions):
    charter = await booked(staff, bookable_charter)
    vehicle_id = charter["vehicles"][0]["id"]
    before = await dispatch_state(sessions, vehicle_id)

    agent = await as_role("sales_agent")
    anonymous = staff.as_user(None)
    refused = await agent(SET_DISPATCH, {"id": vehicle_id, "status": "READY"})
    unauthenticated = await anonymous(SET_DISPATCH, {"id": vehicle_id, "status": "READY"})

    assert refused.error_codes == ["FORBIDDEN"]
    assert unauthenticated.error_codes == ["UNAUTHENTICATED"]
    assert await dispatch_state(sessions, vehicle_id) == before
    for role in ("manager", "admin"):
        client = await as_role(role)
        step = "READY" if role == "manager" else "NOT_READY"
        payload = (await client(SET_DISPATCH, {"id": vehicle_id, "status": step})).ok()
        assert payload["setDispatchStatus"]["userErrors"] == []


async def test_issue_is_reachable_from_any_live_status_and_completed_is_final(
    staff, as_role, bookable_charter
):
    charter = await booked(staff, bookable_charter)
    vehicle_id = charter["vehicles"][0]["id"]
    dispatcher = await as_role("dispatcher")

    steps = ["READY", "ISSUE", "DISPATCHED", "IN_TRANSIT", "ON_SITE", "COMPLETED", "ISSUE"]
    results = []
    for step in steps:
        payload = (await dispatcher(SET_DISPATCH, {"id": vehicle_id, "status": step})).ok()
        results.append([e["code"] for e in payload["setDispatchStatus"]["userErrors"]])

    assert results == [[], [], [], [], [], [], ["INVALID_TRANSITION"]]
