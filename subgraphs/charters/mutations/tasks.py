"""Readiness tasks and confirmations: what a dispatcher works through before a trip."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from subgraphs.charters import models
from subgraphs.charters.mutations.inputs import parse_id
from subgraphs.charters.service import confirmations, tasks
from subgraphs.charters.service.access import DISPATCH
from subgraphs.charters.service.timing import now
from subgraphs.charters.types import (
    CharterVehicle,
    Confirmation,
    ConfirmationMethod,
    ConfirmationParty,
    DispatchTask,
)
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


@strawberry.type
class DispatchTaskPayload:
    task: DispatchTask | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ConfirmationPayload:
    confirmation: Confirmation | None = None
    charter_vehicle: CharterVehicle | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RecordConfirmationInput:
    charter_vehicle_id: strawberry.ID
    party: ConfirmationParty = strawberry.field(
        description="The vehicle's assigned driver, or the vendor holding it, confirmed."
    )
    method: ConfirmationMethod
    confirmed_at: datetime | None = strawberry.field(
        default=None, description="When they confirmed (default now); not in the future."
    )
    note: str | None = strawberry.field(default=None, description="At most 1000 characters.")


async def _move(
    info: Info, task_id: strawberry.ID, target: str, reason: str | None = None
) -> DispatchTaskPayload:
    viewer = await info.context.get_viewer()

    def work(session: AsyncSession) -> Awaitable[models.DispatchTask]:
        return tasks.move(session, parse_id(task_id, "id"), target, viewer, at=now(), reason=reason)

    row, errors = await transact(info, work)
    return DispatchTaskPayload(task=DispatchTask.from_row(row) if row else None, user_errors=errors)


@strawberry.type
class TaskMutations:
    @strawberry.mutation(
        extensions=[allow(*DISPATCH)],
        description=("Start working a readiness task (PENDING -> IN_PROGRESS); audited."),
    )
    async def start_task(self, info: Info, id: strawberry.ID) -> DispatchTaskPayload:
        return await _move(info, id, "in_progress")

    @strawberry.mutation(
        extensions=[allow(*DISPATCH)],
        description=(
            "Complete a readiness task by hand (a route checked, documents in the coach); "
            "audited, and it leaves the board's open tasks."
        ),
    )
    async def complete_task(self, info: Info, id: strawberry.ID) -> DispatchTaskPayload:
        return await _move(info, id, "completed")

    @strawberry.mutation(
        extensions=[allow(*DISPATCH)],
        description=("Skip a readiness task that does not apply; the reason is required."),
    )
    async def skip_task(self, info: Info, id: strawberry.ID, reason: str) -> DispatchTaskPayload:
        return await _move(info, id, "skipped", reason)

    @strawberry.mutation(
        extensions=[allow(*DISPATCH)],
        description=("Reopen a completed or skipped task (back to PENDING), or stop working one."),
    )
    async def reopen_task(self, info: Info, id: strawberry.ID) -> DispatchTaskPayload:
        return await _move(info, id, "pending")

    @strawberry.mutation(
        extensions=[allow(*DISPATCH)],
        description=(
            "Record that a charter vehicle's driver or vendor confirmed (by phone, SMS, "
            "e-mail or app): kept with who recorded it, completes the matching readiness "
            "task, announced on `dispatchBoard`."
        ),
    )
    async def record_confirmation(
        self, info: Info, input: RecordConfirmationInput
    ) -> ConfirmationPayload:
        viewer = await info.context.get_viewer()

        async def work(
            session: AsyncSession,
        ) -> tuple[models.Confirmation, models.CharterVehicle | None]:
            vehicle_id: uuid.UUID = parse_id(input.charter_vehicle_id, "charterVehicleId")
            row = await confirmations.record(
                session,
                vehicle_id,
                party=input.party.value,
                method=input.method.value,
                actor=viewer,
                now=now(),
                confirmed_at=input.confirmed_at,
                note=input.note,
            )
            # Locked and loaded by `record`: read from the session, no statement.
            return row, await session.get(models.CharterVehicle, vehicle_id)

        done, errors = await transact(info, work)
        if done is None:
            return ConfirmationPayload(user_errors=errors)
        row, vehicle = done
        return ConfirmationPayload(
            confirmation=Confirmation.from_row(row),
            charter_vehicle=CharterVehicle.from_row(vehicle) if vehicle else None,
        )
