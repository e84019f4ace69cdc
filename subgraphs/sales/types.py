"""Sales' GraphQL types: thin views over rows; relations through loaders.

Every path to a `Client` (queries, entity references from other subgraphs)
goes through `client_or_none`, which applies `service/access.py`: staff see
every client, a client account its own company only, anyone else nothing.
"""

from __future__ import annotations

import uuid
from datetime import date as date_
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.federation.schema_directives import Key
from strawberry.types import Info

from subgraphs.kit.errors import ForbiddenError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.pages_by_parent import PageKey
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money
from subgraphs.sales import loaders as L
from subgraphs.sales.enums import (
    AssignmentMethod,
    ClientStatus,
    ClientType,
    LeadActivityType,
    LeadSource,
    LeadStatus,
    PaymentTerms,
)
from subgraphs.sales.service import assignment, leads
from subgraphs.sales.service.access import may_read_client, may_read_dashboard, may_read_lead

if TYPE_CHECKING:
    from subgraphs.sales.queries import PipelineStage


def gid(value: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(str(value))


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        # Identity owns users; who may read what is decided per field below.
        return cls(id=id)

    @strawberry.field(
        extensions=[allow()],
        description="This sales agent's lead figures: the agent itself, admins, managers "
        "and sales support only (others get null and FORBIDDEN).",
    )
    async def sales_dashboard(self, info: Info) -> SalesDashboard | None:
        viewer = await info.context.get_viewer()
        agent = parse_uuid(self.id)
        if not may_read_dashboard(viewer, agent):
            raise ForbiddenError("Only the agent itself or a manager reads its dashboard.")
        if agent is None:
            return None
        zone = info.context.settings.operator_time_zone
        figures = await info.context.loaders.get(L.SalesFiguresByAgentLoader).load((agent, zone))
        return SalesDashboard.from_figures(figures)


@strawberry.type(
    description="One sales agent's lead figures, in the operator's time zone (today, this "
    "month). Charters adds open quotes and departures to the same `User` "
    "(`openQuoteCount`, `upcomingDepartureCount`); money figures (booked revenue and "
    "profit month to date, non-card money due) arrive with the pricing and finance subgraphs."
)
class SalesDashboard:
    leads_today: int = strawberry.field(description="The agent's leads created today.")
    leads_this_month: int = strawberry.field(
        description="The agent's leads created this calendar month."
    )
    follow_ups_due_today: int = strawberry.field(
        description="Open leads whose next follow-up falls today."
    )
    follow_ups_overdue: int = strawberry.field(
        description="Open leads whose next follow-up fell before today."
    )
    hot_leads: int = strawberry.field(description="Open leads that are hot (`Lead.hot`).")
    _pipeline: strawberry.Private[dict[str, int]]

    @classmethod
    def from_figures(cls, figures: Any) -> SalesDashboard:
        return cls(
            leads_today=figures.leads_today,
            leads_this_month=figures.leads_this_month,
            follow_ups_due_today=figures.follow_ups_due_today,
            follow_ups_overdue=figures.follow_ups_overdue,
            hot_leads=figures.hot_leads,
            _pipeline=figures.pipeline,
        )

    @strawberry.field(description="The agent's leads per status, in pipeline order.")
    def pipeline(
        self,
    ) -> list[Annotated[PipelineStage, strawberry.lazy("subgraphs.sales.queries")]]:
        from subgraphs.sales.queries import PipelineStage

        return [PipelineStage(status=s, count=self._pipeline.get(s.value, 0)) for s in LeadStatus]


@strawberry.type(description="A postal address.")
class Address:
    line1: str | None
    line2: str | None
    city: str | None
    region: str | None = strawberry.field(description="State or province.")
    postal_code: str | None
    country: str | None = strawberry.field(description="ISO 3166-1 alpha-2, such as US.")


@strawberry.type(description="A person at a client.")
class ClientContact:
    id: strawberry.ID
    name: str
    title: str | None
    email: str | None = strawberry.field(description="Stored lower-case.")
    phone: str | None = strawberry.field(description="E.164, such as +19015550123.")
    is_primary: bool

    @classmethod
    def from_row(cls, row: Any) -> ClientContact:
        return cls(
            id=gid(row.id),
            name=row.name,
            title=row.title,
            email=row.email,
            phone=row.phone,
            is_primary=row.is_primary,
        )


@strawberry.federation.type(keys=["id"], description="A client of the operator (the CRM).")
class Client:
    id: strawberry.ID
    name: str
    type: ClientType
    status: ClientStatus
    tax_exempt: bool
    credit_limit: Money | None = strawberry.field(description="Null: no limit agreed.")
    payment_terms: PaymentTerms
    created_at: datetime
    updated_at: datetime
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> Client:
        return cls(
            id=gid(row.id),
            name=row.name,
            type=ClientType(row.client_type),
            status=ClientStatus(row.status),
            tax_exempt=row.tax_exempt,
            credit_limit=row.credit_limit,
            payment_terms=PaymentTerms(row.payment_terms),
            created_at=row.created_at,
            updated_at=row.updated_at,
            _row=row,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Client | None:
        return await client_or_none(info, parse_uuid(id))

    @strawberry.field
    def billing_address(self) -> Address | None:
        row = self._row
        address = Address(
            line1=row.billing_line1,
            line2=row.billing_line2,
            city=row.billing_city,
            region=row.billing_region,
            postal_code=row.billing_postal_code,
            country=row.billing_country,
        )
        return address if any(vars(address).values()) else None

    @strawberry.field(description="The owning sales agent.")
    def sales_agent(self) -> User | None:
        agent = self._row.sales_agent_id
        return User(id=gid(agent)) if agent else None

    @strawberry.field(description="Internal notes: staff only.")
    async def notes(self, info: Info) -> str | None:
        viewer = await info.context.get_viewer()
        if not viewer.is_staff:
            raise ForbiddenError("Only staff read a client's notes.")
        return self._row.notes  # type: ignore[no-any-return]

    @strawberry.field(description="The client's people, the primary contact first.")
    async def contacts(self, info: Info) -> list[ClientContact]:
        rows = await info.context.loaders.get(L.ContactsByClientIdLoader).load(self._row.id)
        ordered = sorted(rows, key=lambda r: not r.is_primary)
        return [ClientContact.from_row(r) for r in ordered]

    @strawberry.field
    async def primary_contact(self, info: Info) -> ClientContact | None:
        rows = await info.context.loaders.get(L.ContactsByClientIdLoader).load(self._row.id)
        primary = next((r for r in rows if r.is_primary), None)
        return ClientContact.from_row(primary) if primary else None


async def client_or_none(info: Info, client_id: uuid.UUID | None) -> Client | None:
    """The client if it exists and the viewer may read it; never another company's."""
    if client_id is None:
        return None
    viewer = await info.context.get_viewer()
    if not may_read_client(viewer, client_id):
        return None
    row = await info.context.loaders.get(L.ClientByIdLoader).load(client_id)
    return Client.from_row(row) if row else None


@strawberry.type(description="Something done about a lead, by whom and when.")
class LeadActivity:
    id: strawberry.ID
    type: LeadActivityType
    notes: str | None
    from_status: LeadStatus | None = strawberry.field(description="STATUS_CHANGE only.")
    to_status: LeadStatus | None = strawberry.field(description="STATUS_CHANGE only.")
    at: datetime
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> LeadActivity:
        return cls(
            id=gid(row.id),
            type=LeadActivityType(row.activity_type),
            notes=row.notes,
            from_status=LeadStatus(row.from_status) if row.from_status else None,
            to_status=LeadStatus(row.to_status) if row.to_status else None,
            at=row.at,
            _row=row,
        )

    @strawberry.field(description="Who recorded it (the signed-in user).")
    def by(self) -> User | None:
        actor = self._row.actor_id
        return User(id=gid(actor)) if actor else None


@strawberry.federation.type(
    keys=[Key(fields="id", resolvable=False)],
    description="A charter, owned by the charters subgraph (a converted lead's quote).",
)
class Charter:
    id: strawberry.ID


@strawberry.type(description="The trip a lead asks about.")
class LeadTrip:
    date: date_ | None
    origin: str | None
    destination: str | None
    passengers: int | None
    vehicle_type: str | None
    notes: str | None


@strawberry.federation.type(keys=["id"], description="A prospective trip and its pipeline.")
class Lead:
    id: strawberry.ID
    source: LeadSource
    first_name: str
    last_name: str
    email: str | None = strawberry.field(description="Stored lower-case.")
    phone: str | None = strawberry.field(description="E.164, such as +19015550123.")
    company: str | None
    status: LeadStatus
    lost_reason: str | None
    score: int = strawberry.field(description="The agent's rating, 0 to 100.")
    marked_hot: bool = strawberry.field(description="The agent's explicit hot mark.")
    last_contact_at: datetime | None
    next_follow_up_at: datetime | None
    contact_count: int = strawberry.field(description="Calls, e-mails and meetings logged.")
    created_at: datetime
    updated_at: datetime
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> Lead:
        return cls(
            id=gid(row.id),
            source=LeadSource(row.source),
            first_name=row.first_name,
            last_name=row.last_name,
            email=row.email,
            phone=row.phone,
            company=row.company,
            status=LeadStatus(row.status),
            lost_reason=row.lost_reason,
            score=row.score,
            marked_hot=row.marked_hot,
            last_contact_at=row.last_contact_at,
            next_follow_up_at=row.next_follow_up_at,
            contact_count=row.contact_count,
            created_at=row.created_at,
            updated_at=row.updated_at,
            _row=row,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Lead | None:
        return await lead_or_none(info, parse_uuid(id))

    @strawberry.field
    def trip(self) -> LeadTrip:
        row = self._row
        return LeadTrip(
            date=row.trip_date,
            origin=row.origin,
            destination=row.destination,
            passengers=row.passengers,
            vehicle_type=row.vehicle_type,
            notes=row.notes,
        )

    @strawberry.field(description="The owning sales agent; null: unassigned.")
    def agent(self) -> User | None:
        agent = self._row.agent_id
        return User(id=gid(agent)) if agent else None

    @strawberry.field(description="How the agent was chosen; null while unassigned.")
    def assignment_method(self) -> AssignmentMethod | None:
        method = self._row.assignment_method
        return AssignmentMethod(method) if method else None

    @strawberry.field(description="When the current agent got the lead.")
    def assigned_at(self) -> datetime | None:
        return self._row.assigned_at  # type: ignore[no-any-return]

    @strawberry.field(description="When convertLead converted it; null until then.")
    def converted_at(self) -> datetime | None:
        return self._row.converted_at  # type: ignore[no-any-return]

    @strawberry.field(description="The charter quote convertLead created; null until then.")
    def charter(self) -> Charter | None:
        charter = self._row.charter_id
        return Charter(id=gid(charter)) if charter else None

    @strawberry.field(
        description="The client the lead is for: matched when it arrived, or found or created "
        "by convertLead (null when neither, or when you may not read the client)."
    )
    async def client(self, info: Info) -> Client | None:
        return await client_or_none(info, self._row.client_id)

    @strawberry.field(
        description="Marked hot by the agent, or the trip is within 30 days with 40 or more "
        "passengers (open leads only; the rule: `service/leads.py:is_hot`)."
    )
    def hot(self, info: Info) -> bool:
        return leads.is_hot(
            self._row, leads.operator_today(info.context.settings.operator_time_zone)
        )

    @strawberry.field(description="The newest activities first, at most `first` (default 20).")
    async def activities(self, info: Info, first: int | None = 20) -> list[LeadActivity]:
        page = await info.context.loaders.get(L.ActivitiesPageByLeadIdLoader).load(
            PageKey.of(self._row.id, first, None)
        )
        return [LeadActivity.from_row(r) for r in page.rows]

    @strawberry.field(description="How many activities the lead has in all.")
    async def activity_count(self, info: Info) -> int:
        page = await info.context.loaders.get(L.ActivitiesPageByLeadIdLoader).load(
            PageKey.of(self._row.id, 20, None)
        )
        return page.total_count


async def lead_or_none(info: Info, lead_id: uuid.UUID | None) -> Lead | None:
    """The lead if it exists and the viewer may read it (`access.may_read_lead`)."""
    if lead_id is None:
        return None
    viewer = await info.context.get_viewer()
    row = await info.context.loaders.get(L.LeadByIdLoader).load(lead_id)
    if row is None or not may_read_lead(viewer, row.agent_id):
        return None
    return Lead.from_row(row)


@strawberry.type(description="One agent's place in the round-robin lead queue.")
class LeadQueueEntry:
    position: int = strawberry.field(description="Queue order; ties go to the first.")
    weight: int = strawberry.field(description="The agent's share of leads, 1 to 100.")
    active: bool = strawberry.field(description="False: skipped by the round-robin.")
    max_leads_per_day: int | None = strawberry.field(
        description="Round-robin leads per operator-local day; null: no cap."
    )
    assigned_total: int = strawberry.field(description="Round-robin leads ever given.")
    last_assigned_at: datetime | None
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> LeadQueueEntry:
        return cls(
            position=row.position,
            weight=row.weight,
            active=row.active,
            max_leads_per_day=row.max_per_day,
            assigned_total=row.assigned_total,
            last_assigned_at=row.last_assigned_at,
            _row=row,
        )

    @strawberry.field
    def agent(self) -> User:
        return User(id=gid(self._row.user_id))

    @strawberry.field(
        description="Round-robin leads today (the operator's time zone); 0 after midnight."
    )
    def assigned_today(self, info: Info) -> int:
        return assignment.count_today(self._row, _queue_day(info))

    @strawberry.field(description="At today's cap: skipped until the operator's midnight.")
    def capped(self, info: Info) -> bool:
        return assignment.is_capped(self._row, _queue_day(info))


def _queue_day(info: Info) -> date_:
    return leads.operator_today(info.context.settings.operator_time_zone)
