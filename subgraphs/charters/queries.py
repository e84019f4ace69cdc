from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated
from zoneinfo import ZoneInfo

import strawberry
from sqlalchemy import Select, select
from strawberry.types import Info

from protocol.roles import Role
from subgraphs.charters import loaders as L
from subgraphs.charters import models
from subgraphs.charters.dispatch_types import driver_app
from subgraphs.charters.enums import ChangeCaseStatus, CharterStatus
from subgraphs.charters.field_policy import charter_audience, series_audience
from subgraphs.charters.preload import preload, wanted_by_page
from subgraphs.charters.queries_fleet_calendar import FleetCalendarQueries
from subgraphs.charters.queries_reports import ReportQueries
from subgraphs.charters.service import board, portals, recovery
from subgraphs.charters.service import booking_peaks as peaks_service
from subgraphs.charters.service import charters as charter_service
from subgraphs.charters.service import documents as document_service
from subgraphs.charters.service import legal_terms as legal_terms_service
from subgraphs.charters.service.access import (
    BOARD_READERS,
    BOOKING_PEAK_READERS,
    DOCUMENT_EXPIRY_READERS,
    FLEET,
    READERS,
    RECOVERY_DESK,
    TRIP_READERS,
    charter_list_agent,
)
from subgraphs.charters.service.fleet import AvailabilityQuery, available_vehicles
from subgraphs.charters.service.visibility import Audience
from subgraphs.charters.types import (
    BlackoutDate,
    BookingPeaks,
    BookingWeek,
    BookingWeekday,
    ChangeCase,
    Charter,
    CharterSeries,
    CharterVehicle,
    Driver,
    RecoveryCase,
    Stop,
    Vehicle,
    VehicleType,
    gid,
    parse_uuid,
)
from subgraphs.charters.types_documents import CharterDocument, LegalTerms
from subgraphs.kit.cost import page
from subgraphs.kit.errors import BadUserInputError, NotFoundError, ServiceError
from subgraphs.kit.ids import require_uuid
from subgraphs.kit.pagination import (
    Connection,
    Edge,
    KeysetOrder,
    PageInfo,
    encode_cursor,
    page_of_rows,
    page_size,
    paginate,
)
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money
from subgraphs.kit.selections import selects

OPEN_QUOTE_DAYS = 120
#: The cap of the few plain lists (vehicle types, vehicles free in a window).
MAX_SMALL_LIST = 100


def _check_first(first: int) -> None:
    if not 0 <= first <= MAX_SMALL_LIST:
        raise BadUserInputError(f"`first` must be between 0 and {MAX_SMALL_LIST}.")


NEWEST_PICKUP = KeysetOrder((models.Charter.pickup_at, models.Charter.id), descending=True)
SOONEST_PICKUP = KeysetOrder((models.Charter.pickup_at, models.Charter.id))


@strawberry.input
class CharterFilter:
    status: list[CharterStatus] | None = None
    pickup_from: datetime | None = None
    pickup_to: datetime | None = None
    client_id: strawberry.ID | None = None
    agent_id: strawberry.ID | None = None
    search: str | None = strawberry.field(default=None, description="Reference prefix.")
    booked_from: datetime | None = strawberry.field(
        default=None, description="Booked at or after this instant (`bookedAt`)."
    )
    booked_to: datetime | None = strawberry.field(
        default=None, description="Booked before this instant (`bookedAt`)."
    )


def _filtered(where: CharterFilter | None) -> Select[tuple[models.Charter]]:
    stmt = select(models.Charter).where(models.Charter.is_template.is_(False))
    if where is None:
        return stmt
    if where.status:
        stmt = stmt.where(models.Charter.status.in_([s.value for s in where.status]))
    if where.pickup_from:
        stmt = stmt.where(models.Charter.pickup_at >= where.pickup_from)
    if where.pickup_to:
        stmt = stmt.where(models.Charter.pickup_at < where.pickup_to)
    if where.client_id:
        stmt = stmt.where(models.Charter.client_id == parse_uuid(where.client_id))
    if where.agent_id:
        stmt = stmt.where(models.Charter.sales_agent_id == parse_uuid(where.agent_id))
    if where.search:
        stmt = stmt.where(models.Charter.reference.startswith(where.search.strip().upper()))
    if where.booked_from:
        stmt = stmt.where(models.Charter.booked_at >= where.booked_from)
    if where.booked_to:
        stmt = stmt.where(models.Charter.booked_at < where.booked_to)
    return stmt


async def _page(
    info: Info,
    stmt: Select[tuple[models.Charter]],
    order: KeysetOrder,
    first: int | None,
    after: str | None,
) -> Connection[Charter]:
    connection = await page_of_rows(
        info.context.sessions,
        stmt.with_only_columns(*models.Charter.__table__.c),
        order,
        first=first,
        after=after,
        to_node=Charter.from_row,
        count=selects(info._raw_info, "totalCount"),
    )
    if connection.edges:
        wanted = wanted_by_page(info._raw_info)
        if wanted:
            nodes = [edge.node for edge in connection.edges]
            preloaded = await preload(info, [node._row.id for node in nodes], wanted)
            for node in nodes:
                node._preload = preloaded
    return connection


async def client_charters(
    info: Info,
    client_id: strawberry.ID,
    *,
    first: int | None,
    after: str | None,
    status: CharterStatus | None,
) -> Connection[Charter]:
    key = parse_uuid(client_id)
    if key is None:
        nothing = PageInfo(
            has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None
        )
        return Connection(edges=[], page_info=nothing, total_count=0)
    if after is not None:
        stmt = _filtered(CharterFilter(client_id=client_id, status=[status] if status else None))
        return await _page(info, stmt, NEWEST_PICKUP, first, after)
    size = page_size(first)
    rows, total = await info.context.loaders.get(L.FirstChartersByClientLoader).load(
        (key, size, status.value if status else None)
    )
    page = rows[:size]
    edges = [
        Edge(cursor=encode_cursor(NEWEST_PICKUP.values_of(r)), node=Charter.from_row(r))
        for r in page
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > size,
            has_previous_page=False,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=total,
    )


@strawberry.type(description="What a quote link shows an anonymous holder: this quote only.")
class PublicQuote:
    reference: str
    revision: int
    status: CharterStatus
    pickup_local: str
    pickup_time_zone: str
    passenger_count: int
    stops: list[Stop] = strawberry.field(description="The itinerary: at most 50 stops.")
    vehicle_types: list[str] = strawberry.field(description="One name per vehicle: at most 50.")
    total: Money
    link_expires_at: datetime | None = None

    @strawberry.field(
        description=(
            "The current legal terms of each kind (at most one each): what accepting this "
            "quote signs."
        )
    )
    async def legal_terms(self, info: Info) -> list[LegalTerms]:
        return await _current_legal_terms(info)


@strawberry.input(description="Narrows `myCharters`: statuses, and a pickup window [from, to).")
class MyChartersFilter:
    status: list[CharterStatus] | None = None
    pickup_from: datetime | None = None
    pickup_to: datetime | None = None


@strawberry.type
class Query(FleetCalendarQueries, ReportQueries):
    @strawberry.field(
        extensions=[allow(*READERS, Role.CLIENT, Role.VENDOR, Role.DRIVER)],
        description=(
            "One charter. Staff read any; a client its own company's, a vendor those it "
            "is assigned to, offered or has bid on, a driver those it drives: each only "
            "the fields its portal may read (others are null with FORBIDDEN)."
        ),
    )
    async def charter(self, info: Info, id: strawberry.ID) -> Charter:
        key = require_uuid(id, "Charter")
        row = await info.context.loaders.get(L.CharterByIdLoader).load(key)
        # A charter the reader may not read is, for them, one that does not exist.
        if row is None or await charter_audience(info, row) is None:
            raise NotFoundError("Charter", id)
        return Charter.from_row(row)

    @strawberry.field(
        extensions=[allow(Role.CLIENT)],
        description="Your company's charters (quotes included), soonest pickup first.",
    )
    async def my_charters(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        where: MyChartersFilter | None = None,
    ) -> Connection[Charter]:
        viewer = await info.context.get_viewer()
        if viewer.client_id is None:
            raise NotFoundError("Client")
        wanted = where or MyChartersFilter()
        stmt = portals.client_charters(
            viewer.client_id,
            portals.ClientCharterFilter(
                statuses=tuple(s.value for s in wanted.status or ()),
                pickup_from=wanted.pickup_from,
                pickup_to=wanted.pickup_to,
            ),
        )
        return await _page(info, stmt, SOONEST_PICKUP, first, after)

    @strawberry.field(
        extensions=[allow(*TRIP_READERS)],
        description=(
            "One trip (a charter vehicle) as its driver runs it: stops, contact, "
            "instructions for drivers, coach, notes, photos, checklist; never money. "
            "Staff read any; a driver only its own (others are NOT_FOUND)."
        ),
    )
    async def trip(self, info: Info, id: strawberry.ID) -> driver_app.Trip:
        return await driver_app.trip_for(info, id)

    @strawberry.field(
        extensions=[allow(*TRIP_READERS)],
        description="The pre-trip checklist's items in order (at most 50 active; with "
        "includeRetired, also the 50 most recently retired).",
    )
    async def checklist_items(
        self, info: Info, include_retired: bool = False
    ) -> list[driver_app.ChecklistItem]:
        return await driver_app.checklist_items(info, include_retired)

    @strawberry.field(
        extensions=[allow(Role.DRIVER)],
        description=(
            "The vehicles you drive from today to the seventh day after (operator's time "
            f"zone), soonest first; at most {portals.MAX_TRIPS} (your trips never overlap)."
        ),
    )
    async def my_trips(self, info: Info) -> list[CharterVehicle]:
        viewer = await info.context.get_viewer()
        driver_id = await info.context.loaders.get(L.DriverIdByUserIdLoader).load(viewer.user_id)
        if driver_id is None:
            return []
        zone = info.context.settings.operator_time_zone
        start, end = portals.trip_window(datetime.now(ZoneInfo(zone)).date(), zone)
        async with info.context.sessions() as session:
            rows = await session.scalars(portals.driver_trips(driver_id, start, end))
            return [CharterVehicle.from_row(r) for r in rows]

    @strawberry.field(
        extensions=[allow(*READERS)],
        directives=[page()],
        description=(
            "Charters, soonest pickup first. A sales agent lists only the charters it sells; "
            "managers, sales support, dispatch, accounting and admins list all."
        ),
    )
    async def charters(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        where: CharterFilter | None = None,
    ) -> Connection[Charter]:
        stmt = _filtered(where)
        agent = charter_list_agent(await info.context.get_viewer())
        if agent is not None:
            stmt = stmt.where(models.Charter.sales_agent_id == agent)
        return await _page(info, stmt, SOONEST_PICKUP, first, after)

    @strawberry.field(
        extensions=[allow(*BOOKING_PEAK_READERS)],
        description=(
            "Bookings per ISO week and per weekday in `[from, to)` (default: the 365 days to "
            f"now; at most {peaks_service.MAX_WINDOW.days} days), in the operator's time zone."
        ),
    )
    async def booking_peaks(
        self,
        info: Info,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> BookingPeaks:
        try:
            start, end = peaks_service.window(from_, to, datetime.now(UTC))
        except ServiceError as exc:
            problem = exc.problems[0]
            raise BadUserInputError(problem.message, field=problem.field) from exc
        async with info.context.sessions() as session:
            peaks = await peaks_service.booking_peaks(
                session, start, end, info.context.settings.operator_time_zone
            )
        return BookingPeaks(
            from_=peaks.start,
            to=peaks.end,
            by_week=[
                BookingWeek(week_start=w.week_start, bookings=w.bookings) for w in peaks.by_week
            ],
            by_weekday=[
                BookingWeekday(weekday=d.weekday, name=d.name, bookings=d.bookings)
                for d in peaks.by_weekday
            ],
        )

    @strawberry.field(extensions=[allow(*READERS)], description="Quotes assigned to me.")
    async def my_quotes(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Charter]:
        viewer = await info.context.get_viewer()
        stmt = _filtered(None).where(
            models.Charter.status == "quote", models.Charter.sales_agent_id == viewer.user_id
        )
        return await _page(info, stmt, SOONEST_PICKUP, first, after)

    @strawberry.field(
        extensions=[allow(*READERS)], description="Open quotes departing in the next `days` days."
    )
    async def open_quotes(
        self,
        info: Info,
        days: int = OPEN_QUOTE_DAYS,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[Charter]:
        if not 1 <= days <= 366:
            raise BadUserInputError("`days` must be between 1 and 366.")
        now = datetime.now().astimezone()
        stmt = _filtered(None).where(
            models.Charter.status == "quote",
            models.Charter.pickup_at >= now,
            models.Charter.pickup_at < now + timedelta(days=days),
        )
        return await _page(info, stmt, SOONEST_PICKUP, first, after)

    @strawberry.field(
        description=(
            "Read one open quote through its signed link; no login needed. A link shows "
            "the revision it was made for and stops working once the quote is revised, "
            "booked or cancelled."
        )
    )
    async def quote_by_link(self, info: Info, token: str) -> PublicQuote:
        try:
            link = charter_service.read_quote_link(token, info.context.settings.quote_link_secret)
        except ServiceError as exc:
            raise BadUserInputError(exc.problems[0].message) from None
        loaders = info.context.loaders
        row = await loaders.get(L.CharterByIdLoader).load(link.charter_id)
        if not charter_service.link_still_valid(link, row):
            # Revised, booked, cancelled or gone: the same answer as a bad token.
            raise BadUserInputError("The quote link is invalid or expired.")
        stops = await loaders.get(L.StopsByCharterIdLoader).load(row.id)
        vehicles = await loaders.get(L.VehiclesByCharterIdLoader).load(row.id)
        types = await loaders.get(L.VehicleTypeByIdLoader).load_many(
            [v.vehicle_type_id for v in vehicles]
        )
        return PublicQuote(
            reference=row.reference,
            revision=row.quote_revision,
            status=CharterStatus(row.status),
            pickup_local=row.pickup_local.isoformat(timespec="minutes"),
            pickup_time_zone=row.pickup_time_zone,
            passenger_count=row.passenger_count,
            stops=[Stop.from_row(s, audience=Audience.QUOTE_LINK) for s in stops],
            vehicle_types=[t.name for t in types if t is not None],
            total=Money(sum((v.cost for v in vehicles), Decimal("0.00"))),
        )

    @strawberry.field(
        extensions=[allow(*READERS)],
        description=f"Vehicle types, smallest first: the first `first` (at most {MAX_SMALL_LIST}).",
    )
    async def vehicle_types(self, info: Info, first: int = MAX_SMALL_LIST) -> list[VehicleType]:
        _check_first(first)
        async with info.context.sessions() as session:
            rows = await session.scalars(
                select(models.VehicleType)
                .order_by(models.VehicleType.capacity, models.VehicleType.id)
                .limit(first)
            )
            return [VehicleType.from_row(r) for r in rows]

    @strawberry.field(extensions=[allow(*READERS)], description="The fleet, by plate.")
    async def vehicles(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Vehicle]:
        order = KeysetOrder((models.Vehicle.plate, models.Vehicle.id))
        async with info.context.sessions() as session:
            return await paginate(
                session,
                select(models.Vehicle),
                order,
                first=first,
                after=after,
                to_node=Vehicle.from_row,
            )

    @strawberry.field(extensions=[allow(*READERS)], description="Drivers, by name.")
    async def drivers(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Driver]:
        order = KeysetOrder((models.Driver.name, models.Driver.id))
        async with info.context.sessions() as session:
            return await paginate(
                session,
                select(models.Driver),
                order,
                first=first,
                after=after,
                to_node=Driver.from_row,
            )

    @strawberry.field(
        extensions=[allow(*FLEET, *READERS)],
        description=(
            "Active vehicles free for the whole window, smallest first: the first `first` "
            f"(at most {MAX_SMALL_LIST})."
        ),
    )
    async def available_vehicles(
        self,
        info: Info,
        starts_at: datetime,
        ends_at: datetime,
        vehicle_type_id: strawberry.ID | None = None,
        min_capacity: int | None = None,
        first: int = MAX_SMALL_LIST,
    ) -> list[Vehicle]:
        _check_first(first)
        query = AvailabilityQuery(
            starts_at=starts_at,
            ends_at=ends_at,
            vehicle_type_id=parse_uuid(vehicle_type_id) if vehicle_type_id else None,
            min_capacity=min_capacity,
        )
        async with info.context.sessions() as session:
            try:
                rows = await available_vehicles(session, query)
            except ServiceError as exc:
                raise BadUserInputError(exc.problems[0].message) from None
            return [Vehicle.from_row(r) for r in rows[:first]]

    @strawberry.field(extensions=[allow(*READERS)], description="Blackout dates, soonest first.")
    async def blackout_dates(
        self,
        info: Info,
        from_date: datetime | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[BlackoutDate]:
        stmt = select(models.BlackoutDate)
        if from_date is not None:
            stmt = stmt.where(models.BlackoutDate.ends_on >= from_date.date())
        order = KeysetOrder((models.BlackoutDate.starts_on, models.BlackoutDate.id))
        async with info.context.sessions() as session:
            return await paginate(
                session, stmt, order, first=first, after=after, to_node=BlackoutDate.from_row
            )

    @strawberry.field(extensions=[allow(*READERS)], description="Saved charter templates, by name.")
    async def charter_templates(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Charter]:
        stmt = select(models.Charter).where(models.Charter.is_template.is_(True))
        order = KeysetOrder((models.Charter.template_name, models.Charter.id))
        async with info.context.sessions() as session:
            return await paginate(
                session, stmt, order, first=first, after=after, to_node=Charter.from_row
            )

    @strawberry.field(
        extensions=[allow(*READERS, Role.CLIENT)],
        description="A recurring series: staff read any, a client its own company's.",
    )
    async def charter_series(self, info: Info, id: strawberry.ID) -> CharterSeries:
        key = require_uuid(id, "CharterSeries")
        row = await info.context.loaders.get(L.SeriesByIdLoader).load(key)
        if row is None or await series_audience(info, row) is None:
            raise NotFoundError("CharterSeries", id)
        return CharterSeries.from_row(row)

    @strawberry.field(extensions=[allow(*READERS)], description="Change cases, newest first.")
    async def change_cases(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        status: list[ChangeCaseStatus] | None = None,
        charter_id: strawberry.ID | None = None,
    ) -> Connection[ChangeCase]:
        stmt = select(models.ChangeCase)
        if status:
            stmt = stmt.where(models.ChangeCase.status.in_([s.value for s in status]))
        if charter_id:
            stmt = stmt.where(models.ChangeCase.charter_id == parse_uuid(charter_id))
        order = KeysetOrder((models.ChangeCase.created_at, models.ChangeCase.id), descending=True)
        async with info.context.sessions() as session:
            return await paginate(
                session, stmt, order, first=first, after=after, to_node=ChangeCase.from_row
            )

    @strawberry.field(
        extensions=[allow(*RECOVERY_DESK)],
        description=(
            "The recovery board: open recovery cases (vendor and driver), oldest first, "
            "each with its charter, vehicle and minutes to pickup. Dispatch staff."
        ),
    )
    async def recovery_board(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[RecoveryCase]:
        order = KeysetOrder((models.RecoveryCase.opened_at, models.RecoveryCase.id))
        async with info.context.sessions() as session:
            return await paginate(
                session,
                recovery.open_cases(),
                order,
                first=first,
                after=after,
                to_node=RecoveryCase.from_row,
            )

    @strawberry.field(
        extensions=[allow(*BOARD_READERS)],
        directives=[page()],
        description=(
            "The dispatch board: booked, confirmed and in-progress charters departing in "
            "[from, to) (default now to 2 days from now, at most 31 days), soonest first. "
            "Read each charter's `openTasks`, its vehicles' `dispatchStatus`, "
            "`driverConfirmation`, `vendorConfirmation` and `latestPosition`, and "
            "`seriesPosition` (day N of M); `Subscription.dispatchBoard` streams its changes."
        ),
    )
    async def dispatch_board(
        self,
        info: Info,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> Connection[Charter]:
        try:
            start, end = board.window(from_, to, datetime.now(UTC))
        except ServiceError as exc:
            problem = exc.problems[0]
            raise BadUserInputError(problem.message, field=problem.field) from exc
        return await _page(info, board.departing(start, end), SOONEST_PICKUP, first, after)

    @strawberry.field(
        extensions=[allow(*DOCUMENT_EXPIRY_READERS)],
        description=(
            "Documents on charters expiring within `withinDays` days (default 30, at most "
            "366; already expired ones included), soonest first. Staff."
        ),
    )
    async def expiring_charter_documents(
        self, info: Info, within_days: int = 30, first: int | None = 20, after: str | None = None
    ) -> Connection[CharterDocument]:
        try:
            horizon = document_service.expiry_horizon(within_days, datetime.now(UTC).date())
        except ServiceError as exc:
            problem = exc.problems[0]
            raise BadUserInputError(problem.message, field=problem.field) from exc
        order = KeysetOrder((models.CharterDocument.expires_on, models.CharterDocument.id))
        async with info.context.sessions() as session:
            return await paginate(
                session,
                document_service.expiring(horizon),
                order,
                first=first,
                after=after,
                to_node=CharterDocument.from_row,
            )

    @strawberry.field(
        extensions=[allow()],
        description=(
            "The current version of each kind of legal terms (terms and conditions, "
            "contract, waiver: at most one each): what a client signs. Anyone signed in; "
            "a quote link's holder reads them on `quoteByLink`."
        ),
    )
    async def current_legal_terms(self, info: Info) -> list[LegalTerms]:
        return await _current_legal_terms(info)

    @strawberry.field(
        extensions=[allow()],
        description="One version of legal terms, current or not (anyone signed in).",
    )
    async def legal_terms(self, info: Info, id: strawberry.ID) -> LegalTerms:
        key = require_uuid(id, "LegalTerms")
        row = await info.context.loaders.get(L.LegalTermsByIdLoader).load(key)
        if row is None:
            raise NotFoundError("LegalTerms", id)
        return LegalTerms.from_row(row)


async def _current_legal_terms(info: Info) -> list[LegalTerms]:
    async with info.context.sessions() as session:
        rows = list(await session.scalars(legal_terms_service.current_versions()))
    rows.sort(key=lambda r: legal_terms_service.kind_order(r.kind))
    return [LegalTerms.from_row(r) for r in rows]


__all__ = ["CharterFilter", "MyChartersFilter", "PublicQuote", "Query", "client_charters", "gid"]
