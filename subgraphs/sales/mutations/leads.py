"""Mutations on leads: create, update, status, activities, the hot mark; audited, announced."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow
from subgraphs.sales.enums import LeadActivityType, LeadSource, LeadStatus
from subgraphs.sales.mutations.clients import parse_id
from subgraphs.sales.service import leads
from subgraphs.sales.service.access import EDIT_LEADS
from subgraphs.sales.types import Lead, LeadActivity


@strawberry.input(description="A new lead; an e-mail or a phone number is required.")
class CreateLeadInput:
    source: LeadSource
    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = strawberry.field(
        default=None, description="Any common form; stored in E.164 (US when no country code)."
    )
    company: str | None = None
    trip_date: date | None = None
    origin: str | None = None
    destination: str | None = None
    passengers: int | None = None
    vehicle_type: str | None = strawberry.field(
        default=None, description="As the client asked, such as motorcoach or minibus."
    )
    notes: str | None = None
    agent_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The owning agent; a sales agent's new lead is its own, staff may leave "
        "it unassigned.",
    )
    score: int | None = strawberry.field(default=None, description="0 to 100.")


@strawberry.input(description="Only the fields given change; an empty string clears one.")
class UpdateLeadInput:
    source: LeadSource | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    company: str | None = None
    trip_date: date | None = None
    origin: str | None = None
    destination: str | None = None
    passengers: int | None = None
    vehicle_type: str | None = None
    notes: str | None = None
    agent_id: strawberry.ID | None = None
    score: int | None = None


@strawberry.input(description="A call, e-mail, meeting or note (status changes: setLeadStatus).")
class LeadActivityInput:
    type: LeadActivityType
    notes: str | None = None
    next_follow_up_at: datetime | None = strawberry.field(
        default=None, description="When to follow up next; becomes the lead's nextFollowUpAt."
    )


@strawberry.type
class LeadPayload:
    lead: Lead | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LeadActivityPayload:
    activity: LeadActivity | None = None
    lead: Lead | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _details(data: CreateLeadInput | UpdateLeadInput) -> leads.LeadDetails:
    agent = parse_id(data.agent_id, "agentId") if data.agent_id is not None else None
    return leads.LeadDetails(
        source=data.source.value if data.source else None,
        first_name=data.first_name,
        last_name=data.last_name,
        email=data.email,
        phone=data.phone,
        company=data.company,
        trip_date=data.trip_date,
        origin=data.origin,
        destination=data.destination,
        passengers=data.passengers,
        vehicle_type=data.vehicle_type,
        notes=data.notes,
        agent_id=agent,
        score=data.score,
    )


def _lead(row: Any, errors: list[UserError]) -> LeadPayload:
    return LeadPayload(lead=Lead.from_row(row) if row else None, user_errors=errors)


@strawberry.type
class LeadMutations:
    @strawberry.mutation(extensions=[allow(*EDIT_LEADS)], description="A new lead, status NEW.")
    async def create_lead(self, info: Info, input: CreateLeadInput) -> LeadPayload:
        viewer = await info.context.get_viewer()
        zone = info.context.settings.operator_time_zone
        row, errors = await transact(
            info, lambda s: leads.create(s, _details(input), viewer, zone=zone)
        )
        return _lead(row, errors)

    @strawberry.mutation(extensions=[allow(*EDIT_LEADS)])
    async def update_lead(
        self, info: Info, id: strawberry.ID, input: UpdateLeadInput
    ) -> LeadPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info, lambda s: leads.update(s, parse_id(id, "id"), _details(input), viewer)
        )
        return _lead(row, errors)

    @strawberry.mutation(
        extensions=[allow(*EDIT_LEADS)],
        description="Move the lead along the pipeline; LOST needs a `reason`.",
    )
    async def set_lead_status(
        self, info: Info, id: strawberry.ID, status: LeadStatus, reason: str | None = None
    ) -> LeadPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info,
            lambda s: leads.set_status(s, parse_id(id, "id"), status.value, reason, viewer),
        )
        return _lead(row, errors)

    @strawberry.mutation(
        extensions=[allow(*EDIT_LEADS)],
        description="Record a call, e-mail, meeting or note by you, now.",
    )
    async def log_lead_activity(
        self, info: Info, lead_id: strawberry.ID, input: LeadActivityInput
    ) -> LeadActivityPayload:
        viewer = await info.context.get_viewer()
        given = leads.ActivityInput(
            kind=input.type.value, notes=input.notes, next_follow_up_at=input.next_follow_up_at
        )
        result, errors = await transact(
            info, lambda s: leads.log_activity(s, parse_id(lead_id, "leadId"), given, viewer)
        )
        if result is None:
            return LeadActivityPayload(user_errors=errors)
        activity, row = result
        return LeadActivityPayload(
            activity=LeadActivity.from_row(activity), lead=Lead.from_row(row)
        )

    @strawberry.mutation(
        extensions=[allow(*EDIT_LEADS)], description="Mark (or unmark) the lead hot by hand."
    )
    async def mark_lead_hot(self, info: Info, id: strawberry.ID, hot: bool = True) -> LeadPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info, lambda s: leads.mark_hot(s, parse_id(id, "id"), hot, viewer)
        )
        return _lead(row, errors)
