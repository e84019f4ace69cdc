"""Charters' GraphQL types: thin views over rows; every relation via a loader."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

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
from subgraphs.charters.preload import Preloaded
from subgraphs.charters.service import sales_figures
from subgraphs.charters.service.access import READERS, may_read_sales_figures
from subgraphs.charters.service.visibility import Audience
from subgraphs.kit.errors import BadUserInputError, ForbiddenError
from subgraphs.kit.execution import UNREAD, reads_first
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.pages_by_parent import PageKey
from subgraphs.kit.pagination import Connection
from subgraphs.kit.permissions import allow
from subgraphs.kit.row_views import RowBacked, back_by_rows
from subgraphs.kit.scalars import Money

if TYPE_CHECKING:
    from subgraphs.charters.types_documents import (
        CharterDocument,
        CharterDocumentCategory,
        CharterSignature,
    )

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
class VehicleType(RowBacked):
    id: strawberry.ID
    name: str
    capacity: int
    description: str | None

    @classmethod
    def from_row(cls, row: models.VehicleType) -> VehicleType:
        return cls.of_row(row)  # a page of vehicles reads the same few types many times


back_by_rows(VehicleType, {"id": lambda row: gid(row.id)})


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
    """A view over its row: each field is read from the row when it is asked for.

    A list of stops is read for whole pages of charters, mostly for one or two
    of its fields: converting every column of every stop up front was a
    measurable share of such a request.
    """

    _row: strawberry.Private[Any]
    #: Set when the reader's audience is known without the charter (a quote link).
    _audience: strawberry.Private[Audience | None] = None

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self._row.id)

    @strawberry.field
    def position(self) -> int:
        value: int = self._row.position
        return value

    @strawberry.field(name="type")
    def stop_type(self) -> StopType:
        return StopType(self._row.stop_type)

    @strawberry.field
    def address(self) -> str:
        value: str = self._row.address
        return value

    @strawberry.field
    def latitude(self) -> float | None:
        value = self._row.latitude
        return float(value) if value is not None else None

    @strawberry.field
    def longitude(self) -> float | None:
        value = self._row.longitude
        return float(value) if value is not None else None

    @strawberry.field
    def planned_arrival(self) -> datetime | None:
        value: datetime | None = self._row.planned_arrival
        return value

    @strawberry.field
    def planned_departure(self) -> datetime | None:
        value: datetime | None = self._row.planned_departure
        return value

    @strawberry.field
    def notes(self) -> str | None:
        value: str | None = self._row.notes
        return value

    async def reader_audience(self, info: Info) -> Audience | None:
        if self._audience is not None:
            return self._audience
        return await charter_audience_by_id(info, self._row.charter_id)

    @classmethod
    def from_row(cls, row: models.Stop, audience: Audience | None = None) -> Stop:
        return cls(_row=row, _audience=audience)


@strawberry.federation.type(keys=["id"], description="One vehicle of a charter.")
class CharterVehicle:
    # Each field reads the row when asked for (as `Stop`): pages read many vehicles for
    # a few of their fields.
    _row: strawberry.Private[Any]
    #: Its vehicle type's row, when the page it sits in loaded them (`preload`).
    _vehicle_type: strawberry.Private[Any] = None
    #: No audience comes with it: the field policy works it out (field_policy._known_audience
    #: reads this on every field, and a missing attribute is the slow case of `getattr`).
    _audience = None

    @strawberry.field
    def id(self) -> strawberry.ID:
        return gid(self._row.id)

    @strawberry.field
    def position(self) -> int:
        value: int = self._row.position
        return value

    @strawberry.field
    def capacity(self) -> int:
        value: int = self._row.capacity
        return value

    @strawberry.field(description="The client's price of this vehicle.")
    def cost(self) -> Money | None:
        return Money(self._row.cost)

    @strawberry.field
    def status(self) -> CharterVehicleStatus:
        return CharterVehicleStatus(self._row.status)

    @strawberry.field
    def dispatch_status(self) -> DispatchStatus:
        return DispatchStatus(self._row.dispatch_status)

    @strawberry.field
    def pickup_address(self) -> str | None:
        value: str | None = self._row.pickup_address
        return value

    @strawberry.field
    def dropoff_address(self) -> str | None:
        value: str | None = self._row.dropoff_address
        return value

    @strawberry.field
    def special_requirements(self) -> str | None:
        value: str | None = self._row.special_requirements
        return value

    async def reader_audience(self, info: Info) -> Audience | None:
        return await charter_audience_by_id(info, self._row.charter_id)

    def _preloaded_vehicle_type(self) -> Any:
        if self._vehicle_type is None:
            return UNREAD
        return VehicleType.from_row(self._vehicle_type)

    @strawberry.field(graphql_type=VehicleType)
    @reads_first(_preloaded_vehicle_type)
    def vehicle_type(self, info: Info) -> VehicleType | Awaitable[VehicleType]:
        # Preloaded: a plain call, no coroutine per vehicle (graphql-core awaits the other).
        preloaded = self._preloaded_vehicle_type()
        return self._load_vehicle_type(info) if preloaded is UNREAD else preloaded

    async def _load_vehicle_type(self, info: Info) -> VehicleType:
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

    @strawberry.field(
        description=(
            "Recovery: `NOT_NEEDED`, or the open case's status (the vendor case when both "
            "a vendor and a driver case are open). Staff only."
        )
    )
    def recovery_status(self) -> RecoveryStatus | None:
        return RecoveryStatus(self._row.recovery_status)

    @strawberry.field(
        description="The open recovery case (vendor first, then driver), null when none. Staff only."
    )
    async def recovery(self, info: Info) -> RecoveryCase | None:
        rows = await info.context.loaders.get(L.OpenRecoveryByVehicleIdLoader).load(self._row.id)
        ordered = sorted(rows, key=lambda r: r.subject != "vendor")
        return RecoveryCase.from_row(ordered[0]) if ordered else None

    @strawberry.field(
        description=(
            "Its driver's and vendor's confirmations, oldest first: at most the newest "
            f"{L.MAX_CONFIRMATIONS}. Staff only."
        )
    )
    async def confirmations(self, info: Info) -> list[Confirmation] | None:
        rows = await info.context.loaders.get(L.ConfirmationsByVehicleIdLoader).load(self._row.id)
        return [Confirmation.from_row(r) for r in rows]

    @strawberry.field(
        description="The assigned driver's newest confirmation; null: not confirmed. Staff only."
    )
    async def driver_confirmation(self, info: Info) -> Confirmation | None:
        rows = await info.context.loaders.get(L.ConfirmationsByVehicleIdLoader).load(self._row.id)
        return _latest(rows, "driver", self._row.driver_id)

    @strawberry.field(
        description=(
            "The confirmation of the vendor holding the vehicle (its portal answer or a "
            "call dispatch recorded); null: not confirmed. Staff only."
        )
    )
    async def vendor_confirmation(self, info: Info) -> Confirmation | None:
        loaders = info.context.loaders
        facts = await loaders.get(L.VendorAssignmentFactsByVehicleIdLoader).load(self._row.id)
        holding = _holding_fact(facts)
        rows = await loaders.get(L.ConfirmationsByVehicleIdLoader).load(self._row.id)
        return _latest(rows, "vendor", holding.vendor_id if holding else None)

    @strawberry.field(
        description=(
            "Vendors' assignment status of the vendor holding the vehicle (OFFERED, "
            "CONFIRMED, ...); null when no vendor holds it. Staff only."
        )
    )
    async def vendor_assignment_status(self, info: Info) -> str | None:
        facts = await info.context.loaders.get(L.VendorAssignmentFactsByVehicleIdLoader).load(
            self._row.id
        )
        holding = _holding_fact(facts)
        return holding.status.upper() if holding else None

    @strawberry.field(description="Where the vehicle was last seen (driver app). Staff only.")
    async def latest_position(self, info: Info) -> VehicleLocation | None:
        rows = await info.context.loaders.get(L.LatestPositionByVehicleIdLoader).load(self._row.id)
        return VehicleLocation.from_row(rows[0]) if rows else None

    @classmethod
    def from_row(cls, row: models.CharterVehicle, vehicle_type: Any = None) -> CharterVehicle:
        return cls(_row=row, _vehicle_type=vehicle_type)

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


def _preloaded_stops(charter: Charter) -> Any:
    """A charter's stops when its page preloaded them (`preload.py`), else UNREAD."""
    preloaded = charter._preload
    if preloaded is None or preloaded.stops is None:
        return UNREAD
    return [Stop.from_row(r) for r in preloaded.stops[charter._row.id]]


def _preloaded_vehicles(charter: Charter) -> Any:
    """A charter's vehicles (with their types) when its page preloaded them, else UNREAD."""
    preloaded = charter._preload
    if preloaded is None or preloaded.vehicles is None:
        return UNREAD
    types = preloaded.vehicle_types or {}
    return [
        CharterVehicle.from_row(r, types.get(r.vehicle_type_id))
        for r in preloaded.vehicles[charter._row.id]
    ]


@strawberry.federation.type(keys=["id"], description="A charter: a quote, then a booked trip.")
class Charter(RowBacked):
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
    booked_at: datetime | None = strawberry.field(
        description="When the charter was booked (its quote accepted); null while a quote."
    )
    _row: strawberry.Private[Any]
    #: Its page's children, when the page loaded them for all its charters at once.
    _preload: strawberry.Private[Preloaded | None] = None
    _audience = None  # as CharterVehicle's

    @classmethod
    def from_row(cls, row: Any) -> Charter:
        # An ORM instance or a plain row of the charters table (pages and loaders read
        # rows); each plain field is read from it when first asked for (`back_by_rows`).
        return cls.of_row(row)

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
        graphql_type=list[Stop],
        description=(
            "Ordered itinerary: a pickup first, a drop-off last. At most 50 stops "
            "(a charter never has more)."
        ),
    )
    @reads_first(_preloaded_stops)
    def stops(self, info: Info) -> list[Stop] | Awaitable[list[Stop]]:
        preloaded = _preloaded_stops(self)
        return self._load_stops(info) if preloaded is UNREAD else preloaded

    async def _load_stops(self, info: Info) -> list[Stop]:
        rows = await info.context.loaders.get(L.StopsByCharterIdLoader).load(self._row.id)
        return [Stop.from_row(r) for r in rows]

    @strawberry.field(
        graphql_type=list[CharterVehicle],
        description="The charter's vehicles. At most 50 (a charter never has more).",
    )
    @reads_first(_preloaded_vehicles)
    def vehicles(self, info: Info) -> list[CharterVehicle] | Awaitable[list[CharterVehicle]]:
        preloaded = _preloaded_vehicles(self)
        return self._load_vehicles(info) if preloaded is UNREAD else preloaded

    async def _load_vehicles(self, info: Info) -> list[CharterVehicle]:
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

    @strawberry.field(
        description='The distinct vehicle type names of its vehicles, sorted, joined by " + " '
        "(null with no vehicles): a report's one cell for them."
    )
    async def vehicle_type_summary(self, info: Info) -> str | None:
        loader = info.context.loaders.get(L.VehicleTypeSummaryByCharterIdLoader)
        summary: str | None = await loader.load(self._row.id)
        return summary

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

    @strawberry.field(
        description=(
            "Open recovery cases of the charter's vehicles, oldest first (at most a vendor "
            "and a driver case per vehicle). Staff only."
        )
    )
    async def recovery(self, info: Info) -> list[RecoveryCase] | None:
        rows = await info.context.loaders.get(L.OpenRecoveryByCharterIdLoader).load(self._row.id)
        return [RecoveryCase.from_row(r) for r in rows]

    @strawberry.field(
        description=(
            "Readiness tasks, soonest due first (per vehicle and charter-wide), whatever "
            "their status: at most 5 per vehicle and 2 for the charter. Staff only."
        )
    )
    async def tasks(self, info: Info) -> list[DispatchTask] | None:
        from subgraphs.charters.service.tasks import sort_key

        rows = await info.context.loaders.get(L.TasksByCharterIdLoader).load(self._row.id)
        return [DispatchTask.from_row(r) for r in sorted(rows, key=sort_key)]

    @strawberry.field(
        description=(
            "The board's tasks: pending and in progress, soonest due first (completed and "
            "skipped ones drop off): at most 5 per vehicle and 2 for the charter. Staff only."
        )
    )
    async def open_tasks(self, info: Info) -> list[DispatchTask] | None:
        from subgraphs.charters.service.tasks import OPEN, sort_key

        rows = await info.context.loaders.get(L.TasksByCharterIdLoader).load(self._row.id)
        return [DispatchTask.from_row(r) for r in sorted(rows, key=sort_key) if r.status in OPEN]

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

    @strawberry.field(
        description=(
            "Dispatch's attempts to reach the driver, vendor or client about this charter, "
            "newest first. Staff only."
        )
    )
    async def contact_attempts(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[ContactAttempt] | None:
        page = await info.context.loaders.get(L.ContactAttemptsPageByCharterIdLoader).load(
            PageKey.of(self._row.id, first, after)
        )
        return page.connection(ContactAttempt.from_row)

    @strawberry.field(
        description=(
            "The route's estimate from `optimizeRoute` (null until the route is optimised)."
        )
    )
    def route(self) -> RouteEstimate | None:
        row = self._row
        if row.route_optimized_at is None:
            return None
        return RouteEstimate(
            distance_miles=row.route_distance_miles,
            duration_minutes=row.route_duration_minutes,
            optimized_at=row.route_optimized_at,
        )

    @strawberry.field(
        description=(
            "Live special instructions: critical first, then important, then normal, each "
            "oldest first. Staff read all; the assigned driver those visible to drivers; a "
            "vendor with access those visible to vendors; clients none. At most 50."
        )
    )
    async def special_instructions(self, info: Info) -> list[SpecialInstruction] | None:
        from subgraphs.charters.service.instructions import visible_to

        rows = await info.context.loaders.get(L.SpecialInstructionsByCharterIdLoader).load(
            self._row.id
        )
        audience = await self.reader_audience(info)
        return [SpecialInstruction.from_row(r) for r in visible_to(rows, audience)]

    @strawberry.field(
        description=(
            "Documents attached to the charter, newest first: staff read every category; "
            "the charter's own client its client documents, terms, contracts, invoices and "
            "receipts; a vendor with access its own bid attachments and the job sheets."
        )
    )
    async def documents(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        category: Annotated[
            CharterDocumentCategory, strawberry.lazy("subgraphs.charters.types_documents")
        ]
        | None = None,
    ) -> (
        Connection[
            Annotated[CharterDocument, strawberry.lazy("subgraphs.charters.types_documents")]
        ]
        | None
    ):
        from subgraphs.charters.types_documents import charter_documents

        return await charter_documents(info, self, first, after, category)

    @strawberry.field(
        description=(
            "E-signatures of legal terms for this charter, newest first: staff and the "
            "charter's own client."
        )
    )
    async def signatures(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> (
        Connection[
            Annotated[CharterSignature, strawberry.lazy("subgraphs.charters.types_documents")]
        ]
        | None
    ):
        from subgraphs.charters.types_documents import CharterSignature as Signature

        page = await info.context.loaders.get(L.SignaturesPageByCharterIdLoader).load(
            PageKey.of(self._row.id, first, after)
        )
        return page.connection(Signature.from_row)


back_by_rows(
    Charter,
    {
        "id": lambda row: gid(row.id),
        "status": lambda row: CharterStatus(row.status),
        "trip_type": lambda row: TripType(row.trip_type),
        "pickup_local": lambda row: row.pickup_local.isoformat(timespec="minutes"),
    },
)


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
    _audience = None  # as CharterVehicle's

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

    @strawberry.field(
        description=(
            "The client portal's upcoming trips: booked and confirmed charters whose pickup "
            "is ahead, and trips under way; soonest first, the first `first` (at most 50). "
            "Staff, and the client's own users."
        )
    )
    async def upcoming_trips(self, info: Info, first: int = 5) -> list[Charter] | None:
        return await _dashboard_list(info, self.id, first, L.UpcomingTripsByClientLoader)

    @strawberry.field(
        description=(
            "The client portal's quotes awaiting an answer: open, priced quotes whose pickup "
            "is ahead, newest first (each with its current `quoteRevision`, what "
            "`acceptQuote` takes); the first `first` (at most 50). Staff, and the client's "
            "own users."
        )
    )
    async def quotes_awaiting_answer(self, info: Info, first: int = 5) -> list[Charter] | None:
        return await _dashboard_list(info, self.id, first, L.QuotesAwaitingAnswerByClientLoader)


async def _dashboard_list(
    info: Info, client_id: strawberry.ID, first: int, loader: type[Any]
) -> list[Charter]:
    from subgraphs.charters.service.access import may_read_client_dashboard
    from subgraphs.charters.service.portal_dashboard import check_first

    viewer = await info.context.get_viewer()
    key = parse_uuid(client_id)
    if not may_read_client_dashboard(viewer, key):
        raise ForbiddenError("You may not see this client's trips and quotes.")
    check_first(first)
    if key is None:
        return []
    rows = await info.context.loaders.get(loader).load((key, first))
    return [Charter.from_row(r) for r in rows]


# --- recovery (issue 13 section 3) -----------------------------------------------------


@strawberry.enum
class RecoveryStatus(Enum):
    NOT_NEEDED = "not_needed"
    PENDING = "pending"
    VENDOR_SEARCH = "vendor_search"
    VENDOR_ASSIGNED = "vendor_assigned"
    RESOLVED = "resolved"


@strawberry.enum(description="What a recovery case replaces: the vehicle's vendor or its driver.")
class RecoverySubject(Enum):
    VENDOR = "vendor"
    DRIVER = "driver"


@strawberry.enum
class RecoveryReason(Enum):
    VEHICLE_BREAKDOWN = "vehicle_breakdown"
    VENDOR_DECLINED = "vendor_declined"
    VENDOR_NO_SHOW = "vendor_no_show"
    RECOVERY_REQUESTED = "recovery_requested"
    DRIVER_UNAVAILABLE = "driver_unavailable"
    OTHER = "other"


#: Alerted vendors a case lists (storage keeps them all: they are excluded from later searches).
MAX_ALERTED_SHOWN = 100


@strawberry.type(description="A charter vehicle that lost its vendor or driver; staff only.")
class RecoveryCase:
    id: strawberry.ID
    subject: RecoverySubject
    status: RecoveryStatus
    reason: RecoveryReason
    note: str | None
    opened_at: datetime
    resolved_at: datetime | None
    previous_vendor_id: strawberry.ID | None = strawberry.field(
        description="The vendor that declined or asked for recovery (vendors' `Vendor.id`)."
    )
    replacement_vendor_id: strawberry.ID | None = strawberry.field(
        description="The vendor now assigned in its place, once one is."
    )
    alerted_vendor_ids: list[strawberry.ID] = strawberry.field(
        description="Vendors e-mailed about this case (as vendors reported), in order; at most "
        "the first 100."
    )
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> RecoveryCase:
        return cls(
            id=gid(row.id),
            subject=RecoverySubject(row.subject),
            status=RecoveryStatus(row.status),
            reason=RecoveryReason(row.reason),
            note=row.note,
            opened_at=row.opened_at,
            resolved_at=row.resolved_at,
            previous_vendor_id=gid(row.previous_vendor_id) if row.previous_vendor_id else None,
            replacement_vendor_id=(
                gid(row.replacement_vendor_id) if row.replacement_vendor_id else None
            ),
            alerted_vendor_ids=[
                strawberry.ID(str(v)) for v in (row.alerted_vendor_ids or [])[:MAX_ALERTED_SHOWN]
            ],
            _row=row,
        )

    @strawberry.field(description="Null when vendors' answer opened it.")
    def opened_by(self) -> User | None:
        return User(id=gid(self._row.opened_by)) if self._row.opened_by else None

    @strawberry.field
    def resolved_by(self) -> User | None:
        return User(id=gid(self._row.resolved_by)) if self._row.resolved_by else None

    @strawberry.field
    async def charter(self, info: Info) -> Charter:
        row = await info.context.loaders.get(L.CharterByIdLoader).load(self._row.charter_id)
        return Charter.from_row(row)

    @strawberry.field
    async def charter_vehicle(self, info: Info) -> CharterVehicle:
        row = await info.context.loaders.get(L.CharterVehicleByIdLoader).load(
            self._row.charter_vehicle_id
        )
        return CharterVehicle.from_row(row)

    @strawberry.field(
        description=(
            "Minutes from now to the charter's pickup (negative once it passed): the "
            "board's urgency."
        )
    )
    async def minutes_to_pickup(self, info: Info) -> int:
        row = await info.context.loaders.get(L.CharterByIdLoader).load(self._row.charter_id)
        return int((row.pickup_at - datetime.now().astimezone()).total_seconds() // 60)

    @strawberry.field(description="The driver a driver case replaces.")
    async def previous_driver(self, info: Info) -> Driver | None:
        return await _driver(info, self._row.previous_driver_id)

    @strawberry.field(description="The driver that replaced it, once one did.")
    async def replacement_driver(self, info: Info) -> Driver | None:
        return await _driver(info, self._row.replacement_driver_id)


async def _driver(info: Info, driver_id: uuid.UUID | None) -> Driver | None:
    if driver_id is None:
        return None
    row = await info.context.loaders.get(L.DriverByIdLoader).load(driver_id)
    return Driver.from_row(row) if row else None


# --- readiness tasks, confirmations, the board (issue 13 sections 1 and 2) ---------------


@strawberry.enum(description="A readiness step (seed 001 section 8), in the plan's order.")
class TaskKind(Enum):
    VEHICLE_ASSIGNED = "vehicle_assigned"
    VENDOR_ASSIGNED = "vendor_assigned"
    VENDOR_CONFIRMED = "vendor_confirmed"
    DRIVER_ASSIGNED = "driver_assigned"
    DRIVER_CONFIRMED = "driver_confirmed"
    ROUTE_VERIFIED = "route_verified"
    DOCUMENTS_READY = "documents_ready"


@strawberry.enum
class TaskStatus(Enum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    SKIPPED = "skipped"


@strawberry.enum(description="Who confirmed a charter vehicle.")
class ConfirmationParty(Enum):
    DRIVER = "driver"
    VENDOR = "vendor"


@strawberry.enum(description="How a confirmation was given.")
class ConfirmationMethod(Enum):
    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    APP = "app"


async def vehicle_of(info: Info, charter_vehicle_id: Any) -> CharterVehicle | None:
    """The charter vehicle a dispatch record is about (through the loader); None for none."""
    if charter_vehicle_id is None:
        return None
    row = await info.context.loaders.get(L.CharterVehicleByIdLoader).load(charter_vehicle_id)
    return CharterVehicle.from_row(row) if row else None


@strawberry.type(description="A readiness task of a booked charter, due before its pickup.")
class DispatchTask:
    id: strawberry.ID
    kind: TaskKind
    status: TaskStatus
    due_at: datetime
    overdue_since: datetime | None = strawberry.field(
        description="When the overdue job found it open past its due time; null otherwise."
    )
    completed_at: datetime | None
    skip_reason: str | None
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> DispatchTask:
        return cls(
            id=gid(row.id),
            kind=TaskKind(row.kind),
            status=TaskStatus(row.status),
            due_at=row.due_at,
            overdue_since=row.overdue_since,
            completed_at=row.completed_at,
            skip_reason=row.skip_reason,
            _row=row,
        )

    @strawberry.field(description="Null when its condition completed it (not a person).")
    def completed_by(self) -> User | None:
        return User(id=gid(self._row.completed_by)) if self._row.completed_by else None

    @strawberry.field(description="The vehicle it is about; null for a charter-wide task.")
    async def charter_vehicle(self, info: Info) -> CharterVehicle | None:
        return await vehicle_of(info, self._row.charter_vehicle_id)

    @strawberry.field
    async def charter(self, info: Info) -> Charter:
        row = await info.context.loaders.get(L.CharterByIdLoader).load(self._row.charter_id)
        return Charter.from_row(row)


@strawberry.type(description="A driver's or vendor's confirmation of a charter vehicle.")
class Confirmation:
    id: strawberry.ID
    party: ConfirmationParty
    party_id: strawberry.ID | None = strawberry.field(
        description="The driver (`Driver.id`) or vendor (vendors' `Vendor.id`) that confirmed."
    )
    method: ConfirmationMethod
    confirmed_at: datetime
    note: str | None
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> Confirmation:
        return cls(
            id=gid(row.id),
            party=ConfirmationParty(row.party),
            party_id=gid(row.party_id) if row.party_id else None,
            method=ConfirmationMethod(row.method),
            confirmed_at=row.confirmed_at,
            note=row.note,
            _row=row,
        )

    @strawberry.field(
        description="Who recorded it: a dispatcher, the driver itself; null for vendors' portal."
    )
    def recorded_by(self) -> User | None:
        return User(id=gid(self._row.recorded_by)) if self._row.recorded_by else None


@strawberry.type(description="Where a charter vehicle was last seen (the driver app's newest fix).")
class VehicleLocation:
    latitude: Decimal
    longitude: Decimal
    speed_kph: Decimal | None
    heading: Decimal | None
    accuracy_m: Decimal | None
    recorded_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> VehicleLocation:
        return cls(
            latitude=row.latitude,
            longitude=row.longitude,
            speed_kph=row.speed_kph,
            heading=row.heading,
            accuracy_m=row.accuracy_m,
            recorded_at=row.recorded_at,
        )


def _latest(rows: list[Any], party: str, party_id: uuid.UUID | None) -> Confirmation | None:
    """The newest confirmation by the party the vehicle has now (an earlier one went stale)."""
    if party_id is None:
        return None
    mine = [r for r in rows if r.party == party and r.party_id == party_id]
    return Confirmation.from_row(mine[-1]) if mine else None


def _holding_fact(facts: list[Any]) -> Any | None:
    """Vendors' assignment holding the vehicle now (the newest holding one), if any."""
    from subgraphs.charters.service.tasks import VENDOR_HOLDING

    holding = [f for f in facts if f.status in VENDOR_HOLDING]
    return holding[-1] if holding else None


# --- contact attempts and special instructions (issue 13 §2) --------------------------


@strawberry.enum(description="Whom dispatch tried to reach.")
class ContactParty(Enum):
    DRIVER = "driver"
    VENDOR = "vendor"
    CLIENT = "client"


@strawberry.enum(description="How dispatch tried to reach them.")
class ContactChannel(Enum):
    PHONE = "phone"
    SMS = "sms"
    EMAIL = "email"
    APP = "app"


@strawberry.enum
class ContactOutcome(Enum):
    REACHED = "reached"
    CONFIRMED = "confirmed"
    VOICEMAIL = "voicemail"
    NO_ANSWER = "no_answer"
    DECLINED = "declined"
    WRONG_NUMBER = "wrong_number"


@strawberry.type(description="One attempt by dispatch to reach someone about a charter.")
class ContactAttempt:
    id: strawberry.ID
    party: ContactParty
    channel: ContactChannel
    outcome: ContactOutcome
    note: str | None
    attempted_at: datetime
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> ContactAttempt:
        return cls(
            id=gid(row.id),
            party=ContactParty(row.party),
            channel=ContactChannel(row.channel),
            outcome=ContactOutcome(row.outcome),
            note=row.note,
            attempted_at=row.attempted_at,
            _row=row,
        )

    @strawberry.field(description="The dispatcher who made the attempt.")
    def attempted_by(self) -> User | None:
        return User(id=gid(self._row.attempted_by)) if self._row.attempted_by else None

    @strawberry.field(description="The vehicle the attempt was about, if one.")
    async def charter_vehicle(self, info: Info) -> CharterVehicle | None:
        return await vehicle_of(info, self._row.charter_vehicle_id)


@strawberry.enum
class InstructionKind(Enum):
    PICKUP = "pickup"
    DROPOFF = "dropoff"
    ROUTE_NOTES = "route_notes"
    PASSENGER_REQUIREMENTS = "passenger_requirements"
    EQUIPMENT = "equipment"
    SAFETY = "safety"


@strawberry.enum
class InstructionPriority(Enum):
    NORMAL = "normal"
    IMPORTANT = "important"
    CRITICAL = "critical"


@strawberry.type(description="A special instruction for the people running a charter.")
class SpecialInstruction:
    id: strawberry.ID
    kind: InstructionKind
    priority: InstructionPriority
    text: str
    visible_to_driver: bool = strawberry.field(description="Shown in the driver app.")
    visible_to_vendor: bool = strawberry.field(description="Shown in the vendor portal.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> SpecialInstruction:
        return cls(
            id=gid(row.id),
            kind=InstructionKind(row.kind),
            priority=InstructionPriority(row.priority),
            text=row.text,
            visible_to_driver=row.visible_to_driver,
            visible_to_vendor=row.visible_to_vendor,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type(description="A charter's route as `optimizeRoute` last estimated it.")
class RouteEstimate:
    distance_miles: Decimal | None = strawberry.field(
        description="Great-circle legs between the stops times the road factor, in miles."
    )
    duration_minutes: int | None = strawberry.field(
        description="The distance at the dispatch average speed, in whole minutes."
    )
    optimized_at: datetime


@strawberry.type(description="Bookings made in one ISO week of the operator's calendar.")
class BookingWeek:
    week_start: date = strawberry.field(description="The week's Monday (operator's time zone).")
    bookings: int


@strawberry.type(description="Bookings made on one weekday of the operator's calendar.")
class BookingWeekday:
    weekday: int = strawberry.field(description="ISO weekday: 1 = Monday .. 7 = Sunday.")
    name: str = strawberry.field(description='The weekday\'s English name ("Monday").')
    bookings: int


@strawberry.type(
    description=(
        "Peak periods: charters booked in `[from, to)` (by `bookedAt`, cancelled ones "
        "included: a booking is demand), grouped in the operator's time zone."
    )
)
class BookingPeaks:
    from_: datetime = strawberry.field(name="from")
    to: datetime
    by_week: list[BookingWeek] = strawberry.field(
        description=(
            "Every ISO week the window touches, ascending; weeks without bookings as 0 "
            "(at most 106: the window is at most 731 days)."
        )
    )
    by_weekday: list[BookingWeekday] = strawberry.field(
        description="All seven weekdays, Monday first (at most 7)."
    )
