"""What every charters mutation does around its service call."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from subgraphs.charters.mutations.payloads import CharterPayload
from subgraphs.charters.service import charters as charter_service
from subgraphs.charters.service.change_cases import ApprovalPolicy, ChangeRequest
from subgraphs.charters.service.snapshots import Snapshot
from subgraphs.charters.types import ChangeCase, Charter
from subgraphs.kit.payloads import transact


def policy(info: Info) -> ApprovalPolicy:
    settings = info.context.settings
    return ApprovalPolicy(
        manager_threshold=Decimal(settings.change_manager_threshold),
        auto_approve_minimal=settings.change_auto_approve_minimal,
    )


async def edit_charter(
    info: Info,
    charter_id: uuid.UUID | Callable[[], uuid.UUID],
    change: Callable[[AsyncSession], Awaitable[Callable[[Snapshot], Snapshot]]],
    request: ChangeRequest,
) -> CharterPayload:
    """Edit a quote at once, or file a change case for a booked charter."""
    viewer = await info.context.get_viewer()
    rules = policy(info)

    async def work(session: AsyncSession) -> Any:
        target = charter_id() if callable(charter_id) else charter_id
        return await charter_service.edit(
            session,
            target,
            await change(session),
            viewer,
            request=request,
            policy=rules,
            horizon_days=info.context.settings.charter_booking_horizon_days,
        )

    result, errors = await transact(info, work)
    if result is None:
        return CharterPayload(user_errors=errors)
    return CharterPayload(
        charter=Charter.from_row(result.charter),
        change_case=ChangeCase.from_row(result.change_case) if result.change_case else None,
    )


async def charter_call(
    info: Info, call: Callable[[AsyncSession, Any], Awaitable[Any]]
) -> CharterPayload:
    """Run a service call that returns a charter row, in one transaction."""
    viewer = await info.context.get_viewer()
    row, errors = await transact(info, lambda session: call(session, viewer))
    return CharterPayload(charter=Charter.from_row(row) if row else None, user_errors=errors)
