"""Mutations on the lead queue (managers) and manual assignment; each one transaction, audited."""

from __future__ import annotations

from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow
from subgraphs.sales.mutations.clients import parse_id
from subgraphs.sales.mutations.leads import LeadPayload
from subgraphs.sales.service import queue
from subgraphs.sales.service.access import EDIT_ANY_LEAD, MANAGE_QUEUE
from subgraphs.sales.types import Lead, LeadQueueEntry

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.sales import models


@strawberry.input(description="An agent's whole queue entry; setting it again replaces it.")
class LeadQueueEntryInput:
    agent_id: strawberry.ID = strawberry.field(description="A known, active sales agent.")
    position: int = strawberry.field(description="Queue order, 1 to 10000; ties go to the first.")
    weight: int = strawberry.field(default=1, description="The agent's share, 1 to 100.")
    active: bool = strawberry.field(default=True, description="False: skipped by round-robin.")
    max_leads_per_day: int | None = strawberry.field(
        default=None, description="Round-robin leads per operator-local day; null: no cap."
    )


@strawberry.type
class LeadQueueEntryPayload:
    entry: LeadQueueEntry | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RemoveLeadQueueEntryPayload:
    removed_agent_id: strawberry.ID | None = strawberry.field(
        default=None, description="The agent taken out of the queue."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class QueueMutations:
    @strawberry.mutation(
        extensions=[allow(*MANAGE_QUEUE)],
        description="Put a sales agent in the lead queue or replace its entry's settings.",
    )
    async def set_lead_queue_entry(
        self, info: Info, input: LeadQueueEntryInput
    ) -> LeadQueueEntryPayload:
        viewer = await info.context.get_viewer()

        async def work(session: AsyncSession) -> models.LeadQueueEntry:
            settings = queue.QueueSettings(
                agent_id=parse_id(input.agent_id, "agentId"),
                position=input.position,
                weight=input.weight,
                active=input.active,
                max_per_day=input.max_leads_per_day,
            )
            return await queue.set_entry(session, settings, viewer)

        row, errors = await transact(info, work)
        entry = LeadQueueEntry.from_row(row) if row is not None else None
        return LeadQueueEntryPayload(entry=entry, user_errors=errors)

    @strawberry.mutation(
        extensions=[allow(*MANAGE_QUEUE)],
        description="Take an agent out of the lead queue (a departed agent too).",
    )
    async def remove_lead_queue_entry(
        self, info: Info, agent_id: strawberry.ID
    ) -> RemoveLeadQueueEntryPayload:
        viewer = await info.context.get_viewer()
        _, errors = await transact(
            info, lambda s: queue.remove_entry(s, parse_id(agent_id, "agentId"), viewer)
        )
        return RemoveLeadQueueEntryPayload(
            removed_agent_id=None if errors else agent_id, user_errors=errors
        )

    @strawberry.mutation(
        extensions=[allow(*EDIT_ANY_LEAD)],
        description="Give the lead to this sales agent by hand (MANUAL), outside the queue.",
    )
    async def assign_lead(
        self, info: Info, id: strawberry.ID, agent_id: strawberry.ID
    ) -> LeadPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info,
            lambda s: queue.assign(s, parse_id(id, "id"), parse_id(agent_id, "agentId"), viewer),
        )
        return LeadPayload(lead=Lead.from_row(row) if row else None, user_errors=errors)
