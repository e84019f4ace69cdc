"""Charters' GraphQL types: thin views over rows; every relation via a loader."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from subgraphs.charters import loaders as L
from subgraphs.charters import models
from subgraphs.charters.enums import (
    BlackoutKind,
    ChangeCaseStatus,
    ChangePriority,
    ChangeType,
    CharterStatus,
    CharterVehicleStatus,
    DispatchStatus,
    FleetStatus,
    ImpactLevel,
    StopType,
    TripType,
)
from subgraphs.charters.field_policy import (
    charter_audience,
    charter_audience_by_id,
    series_audience,
)
from subgraphs.charters.service import sales_figures
from subgraphs.charters.service.access import READERS, may_read_sales_figures
from subgraphs.charters.service.visibility import Audience
from subgraphs.kit.errors import BadUserInputError, ForbiddenError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.pages_by_parent import PageKey
from subgraphs.kit.pagination import Connection
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money

CHARTERS_PER_CLIENT_PAGE = 100


def gid(value: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(str(value))


@strawberry.federation.type(keys=["id"])
class User:
    """Identity's user; charters adds a sales agent's dashboard figures.

    Both figures follow sales' `User.salesDashboard` rule: the agent itself,
    admins, managers and sales support; anyone else gets null and FORBIDDEN.
    """

    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return cls(id=id)

    async def _agent(self, info: Info) -> uuid.UUID | None:
        viewer = await info.context.get_viewer()
        agent = parse_uuid(self.id)
        if not may_read_sales_figures(viewer, agent):
            raise ForbiddenError("Only the agent itself or a manager reads its figures.")
        return agent

    @strawberry.field(
        extensions=[allow()],
        description="This sales agent's open quotes (QUOTE status, pickup not passed).",
    )
    async def open_quote_count(self, info: Info) -> int | None:
        agent = await self._agent(info)
        if agent is None:
            return None
        loader = info.context.loaders.get(L.OpenQuoteCountByAgentLoader)
        return int(await loader.load(agent))

    @strawberry.field(
        extensions=[allow()],
        description="This sales agent's booked or confirmed charters picking up within the "
        f"next `days` days ({sales_figures.MIN_DAYS} to {sales_figures.MAX_DAYS}).",
    )
    async def upcoming_departure_count(
        self, info: Info, days: int = sales_figures.DEFAULT_DAYS
    ) -> int | None:
        if not sales_figures.MIN_DAYS <= days <= sales_figures.MAX_DAYS:
            raise BadUserInputError(
                f"`days` must be between {sales_figures.MIN_DAYS} and {sales_figures.MAX_DAYS}."
            )
        agent = await self._agent(info)
        if agent is None:
            return None
        loader = info.context.loaders.get(L.UpcomingDepartureCountByAgentLoader)
        return int(await loader.load((agent, days)))


@strawberry.type
class VehicleType:
    id: strawberry.ID
    name: str
    capacity: int
    description: str | None

    @classmethod
    def from_row(cls, row: models.VehicleType) -> VehicleType:
        return cls(
            id=gid(row.id), name=row.name, capacity=row.capacity, description=row.description
        )


@strawberry.type
class Vehicle:
    id: strawberry.ID
    plate: str
    name: str | None
    status: FleetStatus
    _type_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def vehicle_type(self, info: Info) -> VehicleType:
        row = await info.context.loaders.get(L.VehicleTypeByIdLoader).load(self._type_id)
        return VehicleType.from_row(row)

    @classmethod
    def from_row(cls, row: models.Vehicle) -> Vehicle:
        return cls(
            id=gid(row.id),
            plate=row.plate,
            name=row.name,
            status=FleetStatus(row.status),
            _type_id=row.vehicle_type_id,
        )


@strawberry.type
class Driver:
    id: strawberry.ID
    name: str
    licence_class: str
    licence_expires_on: date
    active: bool
    user: User

    @classmethod
    def from_row(cls, row: models.Driver) -> Driver:
        return cls(
            id=gid(row.id),
            name=row.name,
            licence_class=row.licence_class,
            licence_expires_on=row.licence_expires_on,
            active=row.active,
            user=User(id=gid(row.user_id)),
        )


@strawberry.type
class Stop:
    id: strawberry.ID
    position: int
    type: StopType
    address: str
    latitude: float | None
    longitude: float | None
    planned_arrival: datetime | None
    planned_departure: datetime | None
    notes: str | None
    _charter_id: strawberry.Private[uuid.UUID]
    #: Set when the reader's audience is known without the charter (a quote link).
    _audience: strawberry.Private[Audience | None] = None

    async def reader_audience(self, info: Info) -> Audience | None:
        if self._audience is not None:
            return self._audience
        return await charter_audience_by_id(info, self._charter_id)

    @classmethod
    def from_row(cls, row: models.Stop, audience: Audience | None = None) -> Stop:
        return cls(
            id=gid(row.id),
            position=row.position,
            type=StopType(row.stop_type),
            address=row.address,
            latitude=float(row.latitude) if row.latitude is not None else None,
            longitude=float(row.longitude) if row.longitude is not None else None,
            planned_arrival=row.planned_arrival,
            planned_departure=row.planned_departure,
            notes=row.notes,
            _charter_id=row.charter_id,
            _audience=audience,
        )


@strawberry.federation.type(keys=["id"], description="One vehicle of a charter.")
class CharterVehicle:
    id: strawberry.ID
    position: int
    capacity: int
    cost: Money | None = strawberry.field(description="The client's price of this vehicle.")
    status: CharterVehicleStatus
    dispatch_status: DispatchStatus
    pickup_address: str | None
    dropoff_address: str | None
    special_requirements: str | None
    _row: strawberry.Private[Any]

    async def reader_audience(self, info: Info) -> Audience | None:
        return await charter_audience_by_id(info, self._row.charter_id)

    @strawberry.field
    async def vehicle_type(self, info: Info) -> VehicleType:
        row = await info.context.loaders.get(L.VehicleTypeByIdLoader).load(
            self._row.vehicle_type_id
        )
        return VehicleType.from_row(row)

    @strawberry.field(description="The operator's own vehicle, once one is assigned.")
    async def vehicle(self, info: Info) -> Vehicle | None:
        if self._row.vehicle_id is None:
            return None
        row = await info.context.loaders.get(L.VehicleByIdLoader).load(self._row.vehicle_id)
        return Vehicle.from_row(row) if row else None

    @strawberry.field
    async def driver(self, info: Info) -> Driver | None:
        if self._row.driver_id is None:
            return None
        row = await info.context.loaders.get(L.DriverByIdLoader).load(self._row.driver_id)
        return Driver.from_row(row) if row else None

    @strawberry.field
    async def charter(self, info: Info) -> Charter:
        row = await info.context.loaders.get(L.CharterByIdLoader).load(self._row.charter_id)
        return Charter.from_row(row)

    @classmethod
    def from_row(cls, row: models.CharterVehicle) -> CharterVehicle:
        return cls(
            id=gid(row.id),
            position=row.position,
            capacity=row.capacity,
            cost=Money(row.cost),
            status=CharterVehicleStatus(row.status),
            dispatch_status=DispatchStatus(row.dispatch_status),
            pickup_address=row.pickup_address,
            dropoff_address=row.dropoff_address,
            special_requirements=row.special_requirements,
            _row=row,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> CharterVehicle | None:
        key = parse_uuid(id)
        row = await info.context.loaders.get(L.CharterVehicleByIdLoader).load(key) if key else None
        if row is None:
            await _ensure_reader(info)
            return None
        if await charter_audience_by_id(info, row.charter_id) is None:
            raise ForbiddenError("You may not read this charter vehicle.")
        return cls.from_row(row)


@strawberry.type
class Cancellation:
    cancelled_at: datetime
    reason: str | None
    fee: Money | None
    cancelled_by: User | None


@strawberry.type
class SeriesPosition:
    index: int = strawberry.field(description="This instance's place in the series, from 1.")
    count: int = strawberry.field(description="How many instances the series has.")


@strawberry.type
class QuoteRevision:
    revision: int
    created_at: datetime
    snapshot: JSON


@strawberry.type
class AuditEntry:
    entity: str
    entity_id: strawberry.ID
    action: str
    actor: User | None
    impersonator: User | None
    at: datetime
    old: JSON | None
    new: JSON | None

    @classmethod
    def from_row(cls, r: Any) -> AuditEntry:
        return cls(
            entity=r.entity,
            entity_id=gid(r.entity_id),
            action=r.action,
            actor=User(id=gid(r.actor_id)) if r.actor_id else None,
            impersonator=User(id=gid(r.impersonator_id)) if r.impersonator_id else None,
            at=r.at,
            old=r.old,
            new=r.new,
        )


async def _ensure_reader(info: Info) -> None:
    """An unknown id: staff learn it is unknown; others are refused, as for a foreign one."""
    viewer = await info.context.get_viewer()
    if not viewer.has_any_role(*READERS):
        raise ForbiddenError("You may not read this.")


@strawberry.federation.type(keys=["id"], description="A charter: a quote, then a booked trip.")
class Charter:
    id: strawberry.ID
    reference: str
    status: CharterStatus
    trip_type: TripType
    passenger_count: int
    pickup_at: datetime = strawberry.field(description="The pickup instant (UTC).")
    pickup_local: str = strawberry.field(description="Local wall time of the pickup, ISO 8601.")
    pickup_time_zone: str = strawberry.field(description="IANA zone of `pickupLocal`.")
    ends_at: datetime | None
    notes: str | None
    requires_second_driver: bool
    estimated_miles: Decimal | None = strawberry.field(
        description="Trip miles the agent entered for pricing; null: estimated from the stops."
    )
    pickup_contact_name: str | None = strawberry.field(
        description="Who meets the coach at the pickup."
    )
    pickup_contact_phone: str | None
    vendor_instructions: str | None = strawberry.field(
        description="Instructions marked for the vendors serving this charter."
    )
    driver_instructions: str | None = strawberry.field(
        description="Instructions marked for the drivers of this charter."
    )
    quote_revision: int | None
    is_template: bool | None
    template_name: str | None
    occurrence_date: date | None = strawberry.field(
        description="The date this series instance stands for (null outside a series)."
    )
    created_at: datetime | None
    updated_at: datetime | None
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: models.Charter) -> Charter:
        return cls(
            id=gid(row.id),
            reference=row.reference,
            status=CharterStatus(row.status),
            trip_type=TripType(row.trip_type),
            passenger_count=row.passenger_count,
            pickup_at=row.pickup_at,
            pickup_local=row.pickup_local.isoformat(timespec="minutes"),
            pickup_time_zone=row.pickup_time_zone,
            ends_at=row.ends_at,
            notes=row.notes,
            requires_second_driver=row.requires_second_driver,
            estimated_miles=row.estimated_miles,
            pickup_contact_name=row.pickup_contact_name,
            pickup_contact_phone=row.pickup_contact_phone,
            vendor_instructions=row.vendor_instructions,
            driver_instructions=row.driver_instructions,
            quote_revision=row.quote_revision,
            is_template=row.is_template,
            template_name=row.template_name,
            occurrence_date=row.occurrence_date,
            created_at=row.created_at,
            updated_at=row.updated_at,
            _row=row,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Charter | None:
        key = parse_uuid(id)
        row = await info.context.loaders.get(L.CharterByIdLoader).load(key) if key else None
        if row is None:
            await _ensure_reader(info)
            return None
        if await charter_audience(info, row) is None:
            raise ForbiddenError("You may not read this charter.")
        return cls.from_row(row)

    async def reader_audience(self, info: Info) -> Audience | None:
        return await charter_audience(info, self._row)

    @strawberry.field
    def client(self) -> Client | None:
        return Client(id=gid(self._row.client_id))

    @strawberry.field
    def sales_agent(self) -> User | None:
        agent = self._row.sales_agent_id
        return User(id=gid(agent)) if agent else None

    @strawberry.field(
        description=(
            "Ordered itinerary: a pickup first, a drop-off last. At most 50 stops "
            "(a charter never has more)."
        )
    )
    async def stops(self, info: Info) -> list[Stop]:
        rows = await info.context.loaders.get(L.StopsByCharterIdLoader).load(self._row.id)
        return [Stop.from_row(r) for r in rows]

    @strawberry.field(description="The charter's vehicles. At most 50 (a charter never has more).")
    async def vehicles(self, info: Info) -> list[CharterVehicle]:
        rows = await info.context.loaders.get(L.VehiclesByCharterIdLoader).load(self._row.id)
        return [CharterVehicle.from_row(r) for r in rows]

    @strawberry.field(description="Seats across all of the charter's vehicles.")
    async def total_capacity(self, info: Info) -> int:
        rows = await info.context.loaders.get(L.VehiclesByCharterIdLoader).load(self._row.id)
        return sum(r.capacity for r in rows)

    @strawberry.field(description="Sum of the vehicles' costs.")
    async def total_cost(self, info: Info) -> Money | None:
        rows = await info.context.loaders.get(L.VehiclesByCharterIdLoader).load(self._row.id)
        return Money(sum((r.cost for r in rows), Decimal("0.00")))

    @strawberry.field
    def cancellation(self) -> Cancellation | None:
        row = self._row
        if row.cancelled_at is None:
            return None
        return Cancellation(
            cancelled_at=row.cancelled_at,
            reason=row.cancellation_reason,
            fee=Money(row.cancellation_fee) if row.cancellation_fee is not None else None,
            cancelled_by=User(id=gid(row.cancelled_by)) if row.cancelled_by else None,
        )

    @strawberry.field(
        description=(
            "Earlier versions of this quote, oldest first: the newest `first` of them "
            "(default 20, at most 100)."
        )
    )
    async def quote_revisions(self, info: Info, first: int = 20) -> list[QuoteRevision] | None:
        if not 0 <= first <= L.MAX_QUOTE_REVISIONS:
            raise BadUserInputError(f"`first` must be between 0 and {L.MAX_QUOTE_REVISIONS}.")
        rows = await info.context.loaders.get(L.QuoteRevisionsByCharterIdLoader).load(self._row.id)
        shown = rows[len(rows) - first :] if first else []
        return [
            QuoteRevision(revision=r.revision, created_at=r.created_at, snapshot=r.snapshot)
            for r in shown
        ]

    @strawberry.field
    async def cloned_from(self, info: Info) -> Charter | None:
        return await _charter(info, self._row.cloned_from_id)

    @strawberry.field
    async def split_from(self, info: Info) -> Charter | None:
        return await _charter(info, self._row.split_from_id)

    @strawberry.field
    async def series(self, info: Info) -> CharterSeries | None:
        if self._row.series_id is None:
            return None
        row = await info.context.loaders.get(L.SeriesByIdLoader).load(self._row.series_id)
        return CharterSeries.from_row(row) if row else None

    @strawberry.field(description="Instance N of M of its series.")
    async def series_position(self, info: Info) -> SeriesPosition | None:
        if self._row.series_id is None:
            return None
        members = await info.context.loaders.get(L.SeriesMembersBySeriesIdLoader).load(
            self._row.series_id
        )
        return SeriesPosition(index=members.index(self._row.id) + 1, count=len(members))

    @strawberry.field(extensions=[allow(*READERS)], description="Newest first; staff only.")
    async def audit_log(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[AuditEntry] | None:
        page = await info.context.loaders.get(L.AuditPageByCharterIdLoader).load(
            PageKey.of(self._row.id, first, after)
        )
        return page.connection(AuditEntry.from_row)

    @strawberry.field(description="Change cases of this charter, oldest first.")
    async def change_cases(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Annotated[ChangeCase, strawberry.lazy("subgraphs.charters.types")]] | None:
        page = await info.context.loaders.get(L.ChangeCasesPageByCharterIdLoader).load(
            PageKey.of(self._row.id, first, after)
        )
        return page.connection(ChangeCase.from_row)


async def _charter(info: Info, charter_id: uuid.UUID | None) -> Charter | None:
    if charter_id is None:
        return None
    row = await info.context.loaders.get(L.CharterByIdLoader).load(charter_id)
    return Charter.from_row(row) if row else None


@strawberry.federation.type(keys=["id"], description="A recurring charter.")
class CharterSeries:
    id: strawberry.ID
    name: str
    rrule: str
    starts_local: str
    time_zone: str
    exception_dates: list[date] = strawberry.field(
        description=(
            "Dates generation skips. At most 1000 (removing an instance drops those already past)."
        )
    )
    active: bool
    description: str | None
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: models.CharterSeries) -> CharterSeries:
        return cls(
            id=gid(row.id),
            name=row.name,
            rrule=row.rrule,
            starts_local=row.starts_local.isoformat(timespec="minutes"),
            time_zone=row.time_zone,
            exception_dates=list(row.exception_dates or []),
            active=row.active,
            description=row.description,
            _row=row,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> CharterSeries | None:
        key = parse_uuid(id)
        row = await info.context.loaders.get(L.SeriesByIdLoader).load(key) if key else None
        if row is None:
            await _ensure_reader(info)
            return None
        if await series_audience(info, row) is None:
            raise ForbiddenError("You may not read this series.")
        return cls.from_row(row)

    async def reader_audience(self, info: Info) -> Audience | None:
        return await series_audience(info, self._row)

    @strawberry.field
    def client(self) -> Client:
        return Client(id=gid(self._row.client_id))

    @strawberry.field
    async def template(self, info: Info) -> Charter | None:
        return await _charter(info, self._row.template_id)

    @strawberry.field(description="The instances, in date order.")
    async def instances(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Charter]:
        page = await info.context.loaders.get(L.InstancesPageBySeriesIdLoader).load(
            PageKey.of(self._row.id, first, after)
        )
        return page.connection(Charter.from_row)


@strawberry.type
class ChangeCaseEvent:
    from_status: ChangeCaseStatus | None
    to_status: ChangeCaseStatus
    actor: User | None
    impersonator: User | None = strawberry.field(
        description="The staff member acting as `actor` (impersonation), if any."
    )
    notes: str | None
    at: datetime


@strawberry.type(description="A requested change to a booked charter.")
class ChangeCase:
    id: strawberry.ID
    case_number: str
    change_type: ChangeType
    status: ChangeCaseStatus
    priority: ChangePriority
    impact_level: ImpactLevel
    title: str
    reason: str | None
    before: JSON
    after: JSON
    current_price: Money | None = strawberry.field(
        description="What the charter costs now, computed by the system."
    )
    proposed_price: Money | None = strawberry.field(
        description="The requester's estimate: informational only."
    )
    new_price: Money | None = strawberry.field(
        description=(
            "What the charter would cost once the change is implemented, computed by the "
            "system from the after-state (a cancellation: its fee); decides approval."
        )
    )
    requires_approval: bool
    requires_manager: bool
    decision_notes: str | None
    created_at: datetime
    implemented_at: datetime | None
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: models.ChangeCase) -> ChangeCase:
        return cls(
            id=gid(row.id),
            case_number=row.case_number,
            change_type=ChangeType(row.change_type),
            status=ChangeCaseStatus(row.status),
            priority=ChangePriority(row.priority),
            impact_level=ImpactLevel(row.impact_level),
            title=row.title,
            reason=row.reason,
            before=row.before,
            after=row.after,
            current_price=Money(row.current_price) if row.current_price is not None else None,
            proposed_price=Money(row.proposed_price) if row.proposed_price is not None else None,
            new_price=Money(row.new_price) if row.new_price is not None else None,
            requires_approval=row.requires_approval,
            requires_manager=row.requires_manager,
            decision_notes=row.decision_notes,
            created_at=row.created_at,
            implemented_at=row.implemented_at,
            _row=row,
        )

    @strawberry.field
    def requested_by(self) -> User | None:
        return User(id=gid(self._row.requested_by)) if self._row.requested_by else None

    @strawberry.field
    async def charter(self, info: Info) -> Charter | None:
        return await _charter(info, self._row.charter_id)

    @strawberry.field(
        description=(
            "Each move of the case, oldest first. At most 6 entries: the change-case "
            "workflow has no cycles."
        )
    )
    async def history(self, info: Info) -> list[ChangeCaseEvent]:
        rows = await info.context.loaders.get(L.ChangeCaseEventsByCaseIdLoader).load(self._row.id)
        return [
            ChangeCaseEvent(
                from_status=ChangeCaseStatus(r.from_status) if r.from_status else None,
                to_status=ChangeCaseStatus(r.to_status),
                actor=User(id=gid(r.actor_id)) if r.actor_id else None,
                impersonator=User(id=gid(r.impersonator_id)) if r.impersonator_id else None,
                notes=r.notes,
                at=r.at,
            )
            for r in rows
        ]


@strawberry.type
class BlackoutDate:
    id: strawberry.ID
    starts_on: date
    ends_on: date
    kind: BlackoutKind
    description: str | None
    _type_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description="Null for a blackout of every vehicle type.")
    async def vehicle_type(self, info: Info) -> VehicleType | None:
        if self._type_id is None:
            return None
        row = await info.context.loaders.get(L.VehicleTypeByIdLoader).load(self._type_id)
        return VehicleType.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: models.BlackoutDate) -> BlackoutDate:
        return cls(
            id=gid(row.id),
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            kind=BlackoutKind(row.kind),
            description=row.description,
            _type_id=row.vehicle_type_id,
        )


@strawberry.federation.type(keys=["id"], description="A client company (owned by sales).")
class Client:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Client:
        return cls(id=id)

    @strawberry.field(
        extensions=[allow(*READERS)], description="This client's charters, newest pickup first."
    )
    async def charters(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        status: CharterStatus | None = None,
    ) -> Connection[Charter]:
        from subgraphs.charters.queries import client_charters

        return await client_charters(info, self.id, first=first, after=after, status=status)
