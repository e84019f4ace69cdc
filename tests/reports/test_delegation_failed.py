"""A schedule whose owner's token cannot be had fails with DELEGATION_FAILED, its reason kept.

Against the real identity server (its internal token route) through the real
adapter; the graph is never asked, since there is no one to ask it as.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from protocol.revocation import RevocationList
from protocol.tokens import RemoteJwks, TokenVerifier
from subgraphs.kit.context import Services
from subgraphs.kit.settings import Settings
from subgraphs.reports.error_codes import ReportsErrorCode as Code
from subgraphs.reports.models import ReportDelivery, ReportSchedule, ReportTemplate
from subgraphs.reports.service import deliveries
from subgraphs.reports.service.run_tokens import IdentityRunTokens
from tests.reports.identity_users import staff_user

NOW = datetime(2026, 12, 1, 14, 5, tzinfo=UTC)
DUE = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


class UnaskedGraph:
    """The graph port of a run that must never reach the graph."""

    async def query(
        self, document: str, variables: dict[str, Any], authorization: str | None
    ) -> dict[str, Any]:
        raise AssertionError("the graph was asked without the owner's token")


@pytest.fixture
def services(subgraph_settings: Settings, sessions: Any, redis: Any) -> Services:
    return Services(
        name="reports",
        settings=subgraph_settings,
        sessions=sessions,
        redis=redis,
        verifier=TokenVerifier(RemoteJwks("http://127.0.0.1:9/jwks"), issuer="i", audience="a"),
        revocations=RevocationList(redis),
    )


async def _schedule(sessions: Any, owner: uuid.UUID, **grant: Any) -> uuid.UUID:
    template = ReportTemplate(
        id=uuid.uuid4(),
        name="Me",
        operation="query Me { me { id } }",
        rows_path="me",
        columns=[{"path": "id", "label": "Id", "format": "text"}],
        shared=True,
    )
    schedule = ReportSchedule(
        id=uuid.uuid4(),
        template_id=template.id,
        owner_id=owner,
        name="Morning me",
        frequency="daily",
        at_time=time(8, 0),
        time_zone="America/Chicago",
        recipients=["boss@example.com"],
        format="csv",
        parameters={},
        enabled=True,
        next_run_at=DUE,
        **grant,
    )
    async with sessions() as session, session.begin():
        session.add(template)
        await session.flush()
        session.add(schedule)
    return schedule.id


async def _after_three_ticks(services: Services, tokens: IdentityRunTokens) -> list[dict[str, int]]:
    return [
        await deliveries.run_due(
            services, NOW + timedelta(minutes=n), tokens=tokens, graph=UnaskedGraph()
        )
        for n in range(3)
    ]


async def _state(
    sessions: Any, schedule_id: uuid.UUID, due_at: datetime = DUE
) -> tuple[ReportSchedule, ReportDelivery]:
    async with sessions() as session:
        schedule = await session.get(ReportSchedule, schedule_id)
        delivery = await session.scalar(
            select(ReportDelivery).where(
                ReportDelivery.schedule_id == schedule_id, ReportDelivery.due_at == due_at
            )
        )
        assert schedule is not None
        assert delivery is not None
        return schedule, delivery


async def test_a_grant_identity_refuses_to_exchange_fails_the_delivery_with_delegation_failed(
    sessions: Any, services: Services, identity_server: Any, http_client: httpx.AsyncClient
) -> None:
    owner = await staff_user(sessions, "manager")
    # A grant identity never issued (or has revoked): its internal route refuses it.
    schedule_id = await _schedule(
        sessions, owner, delegation_grant_id=uuid.uuid4(), delegation_secret="not-the-secret"
    )
    tokens = IdentityRunTokens(http_client, identity_server.base_url)

    results = await _after_three_ticks(services, tokens)

    assert [r[deliveries.FAILED] for r in results] == [0, 0, 1]
    schedule, delivery = await _state(sessions, schedule_id)
    assert (delivery.status, delivery.attempts, delivery.run_id) == ("failed", 3, None)
    assert schedule.last_error is not None
    # The code first, then the same message as before: what failed and identity's reason.
    assert schedule.last_error.startswith(
        f"{Code.DELEGATION_FAILED}: The delivery due {DUE.isoformat()} failed after 3 attempts: "
        "No access token for the schedule's owner: Identity refused to run it as its owner ("
    )
    assert schedule.last_error.endswith("The owner must enable it again.")
    # The delivery's own error is the message alone, as before.
    assert (delivery.error or "").startswith("No access token for the schedule's owner: Identity")


async def test_no_grant_or_no_identity_is_delegation_failed_too_and_other_failures_claim_no_code(
    sessions: Any, services: Services, http_client: httpx.AsyncClient
) -> None:
    owner = await staff_user(sessions, "manager")
    no_grant = await _schedule(sessions, owner)
    # Identity unreachable: the grant cannot be exchanged (retried, then reported).
    unreachable = IdentityRunTokens(http_client, "http://127.0.0.1:9")
    with_grant = await _schedule(
        sessions, owner, delegation_grant_id=uuid.uuid4(), delegation_secret="s"
    )

    await _after_three_ticks(services, unreachable)

    schedule, _ = await _state(sessions, no_grant)
    assert schedule.last_error is not None
    assert schedule.last_error.startswith(f"{Code.DELEGATION_FAILED}: The delivery due ")
    assert schedule.last_error.endswith(
        "The schedule holds no grant to run as its owner; its owner must enable it again."
    )
    schedule, _ = await _state(sessions, with_grant)
    assert schedule.last_error is not None
    assert schedule.last_error.startswith(f"{Code.DELEGATION_FAILED}: The delivery due ")
    assert "Identity could not be reached" in schedule.last_error

    # A failure that is not the grant's claims no code: an archived template's schedule.
    async with sessions() as session, session.begin():
        archived = await session.get(ReportSchedule, no_grant)
        assert archived is not None
        template = await session.get(ReportTemplate, archived.template_id)
        assert template is not None
        template.active = False
        archived.next_run_at = NOW + timedelta(days=1)
    await deliveries.run_due(
        services, NOW + timedelta(days=1, minutes=1), tokens=unreachable, graph=UnaskedGraph()
    )
    schedule, _ = await _state(sessions, no_grant, NOW + timedelta(days=1))
    assert schedule.last_error == (
        f"The delivery due {(NOW + timedelta(days=1)).isoformat()} failed after 1 attempt: "
        "The template was deleted."
    )
