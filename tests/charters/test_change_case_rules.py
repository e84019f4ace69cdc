"""Seed 002's approval rules, table-driven, and auto-approval at the service level."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.charters.models import AuditEntry, ChangeCase, ChangeCaseEvent
from subgraphs.charters.service import charters, directory, fleet
from subgraphs.charters.service.change_cases import (
    ApprovalPolicy,
    ChangeRequest,
    approval_needed,
)
from tests.support.charters_fixtures import client_event

DEFAULT = ApprovalPolicy()
AUTO = ApprovalPolicy(auto_approve_minimal=True)
CHEAP_MANAGER = ApprovalPolicy(manager_threshold=Decimal("100.00"))


def _request(
    change_type: str = "passenger_count_change",
    priority: str = "medium",
    impact: str = "moderate",
    new: str | None = "1000.00",
    current: str | None = "1000.00",
    proposed: str | None = None,
) -> ChangeRequest:
    """A request as `open_case` prices it: current and new prices computed by the system."""
    return ChangeRequest(
        change_type=change_type,
        title="t",
        priority=priority,
        impact_level=impact,
        proposed_price=Decimal(proposed) if proposed is not None else None,
        current_price=Decimal(current) if current is not None else None,
        new_price=Decimal(new) if new is not None else None,
    )


RULES = [
    # (case, request, policy, required, manager)
    ("cancellation always", _request("cancellation", "low", "minimal"), AUTO, True, False),
    ("cancellation with big refund", _request("cancellation", new="0.00"), AUTO, True, True),
    ("price up exactly 500", _request(new="1500.00"), DEFAULT, True, True),
    ("price down exactly 500", _request(new="500.00"), DEFAULT, True, True),
    ("price up 499.99", _request(new="1499.99"), DEFAULT, True, False),
    ("price below a configured 100", _request(new="1099.99"), CHEAP_MANAGER, True, False),
    ("price at a configured 100", _request(new="1100.00"), CHEAP_MANAGER, True, True),
    ("price unchanged, no manager", _request(), DEFAULT, True, False),
    (
        "the requester's figure decides nothing",
        _request(new="1000.00", proposed="9000.00"),
        DEFAULT,
        True,
        False,
    ),
    (
        "a large computed change needs a manager whatever the requester says",
        _request(new="10000.00", proposed="1000.00"),
        DEFAULT,
        True,
        True,
    ),
    ("high priority", _request(priority="high", impact="minimal"), AUTO, True, False),
    ("urgent priority", _request(priority="urgent", impact="minimal"), AUTO, True, False),
    ("significant impact", _request(priority="low", impact="significant"), AUTO, True, False),
    ("major impact", _request(priority="low", impact="major"), AUTO, True, False),
    ("minimal, auto-approve on", _request(priority="low", impact="minimal"), AUTO, False, False),
    ("minimal, auto-approve off", _request(priority="low", impact="minimal"), DEFAULT, True, False),
    ("moderate impact", _request(priority="low", impact="moderate"), AUTO, True, False),
    (
        "minimal but manager price",
        _request(priority="low", impact="minimal", new="2000.00"),
        AUTO,
        True,
        True,
    ),
]


@pytest.mark.parametrize(
    ("request_", "policy", "required", "manager"),
    [pytest.param(r, p, req, m, id=name) for name, r, p, req, m in RULES],
)
def test_approval_rules(request_, policy, required, manager):
    approval = approval_needed(request_, policy)
    assert (approval.required, approval.manager) == (required, manager)
    assert approval.rule == (None if required else "minimal impact")


MANAGER = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.MANAGER}))


async def _booked_charter(sessions) -> uuid.UUID:
    async with sessions() as session, session.begin():
        vtype = await fleet.create_vehicle_type(
            session, name=f"Coach {uuid.uuid4().hex[:6]}", capacity=56, description=None
        )
        client_id = uuid.uuid4()
        await directory.apply_client_event(session, client_event(client_id, "Acme"))
        charter = await charters.create(
            session,
            charters.NewCharter(
                client_id=client_id,
                trip_type="one_way",
                passenger_count=40,
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
            MANAGER,
        )
        await charters.transition(session, charter.id, "booked", MANAGER)
        return charter.id


def _notes(text: str):
    return lambda snap: {**snap, "notes": text}


async def test_an_auto_approved_change_is_implemented_at_once(sessions):
    charter_id = await _booked_charter(sessions)

    async with sessions() as session, session.begin():
        result = await charters.edit(
            session,
            charter_id,
            _notes("Gate 4"),
            MANAGER,
            request=ChangeRequest("other", "Gate", priority="low", impact_level="minimal"),
            policy=AUTO,
        )
    async with sessions() as session:
        charter = await charters.get(session, charter_id)
        case = await session.scalar(select(ChangeCase).where(ChangeCase.charter_id == charter_id))
        events = list(
            await session.scalars(
                select(ChangeCaseEvent.to_status)
                .where(ChangeCaseEvent.change_case_id == case.id)
                .order_by(ChangeCaseEvent.at, ChangeCaseEvent.id)
            )
        )

    assert result.change_case is not None
    assert charter.notes == "Gate 4"
    assert case.requires_approval is False
    assert case.status == "implemented"
    assert case.implemented_by == MANAGER.user_id
    assert sorted(events) == ["approved", "implemented"]


async def test_a_change_needing_approval_leaves_the_charter_untouched(sessions):
    charter_id = await _booked_charter(sessions)
    async with sessions() as session:
        audit_before = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.charter_id == charter_id)
        )

    async with sessions() as session, session.begin():
        await charters.edit(
            session,
            charter_id,
            _notes("Gate 4"),
            MANAGER,
            request=ChangeRequest("other", "Gate", priority="low", impact_level="minimal"),
            policy=DEFAULT,
        )
    async with sessions() as session:
        charter = await charters.get(session, charter_id)
        case = await session.scalar(select(ChangeCase).where(ChangeCase.charter_id == charter_id))
        audit_after = await session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.charter_id == charter_id)
        )

    assert charter.notes is None
    assert case.status == "pending"
    assert case.after["notes"] == "Gate 4"
    assert audit_after == audit_before


async def test_the_price_difference_is_against_the_current_total(sessions):
    charter_id = await _booked_charter(sessions)  # costs 900.00

    async with sessions() as session, session.begin():
        result = await charters.edit(
            session,
            charter_id,
            _notes("x"),
            MANAGER,
            request=ChangeRequest("other", "t", proposed_price=Decimal("1399.99")),
            policy=DEFAULT,
        )

    assert result.change_case.current_price == Decimal("900.00")
    assert result.change_case.requires_manager is False
