"""Pricing's `Query` root: the price list for staff, quote history, the public calculator."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from subgraphs.kit.errors import BadUserInputError, CodedError, ErrorCode
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.pagination import Connection, KeysetOrder, paginate
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money
from subgraphs.kit.throttle import allowed
from subgraphs.pricing import models
from subgraphs.pricing.engine import TripFacts, VehicleFacts
from subgraphs.pricing.enums import QuoteLineKind, RuleType, TripType
from subgraphs.pricing.loaders import current_price_list
from subgraphs.pricing.service import catalogue, facts, quotes, recommend
from subgraphs.pricing.service.access import EDIT_PRICE_LIST, READ_PRICE_LIST, READ_QUOTES
from subgraphs.pricing.service.distance import estimated_miles
from subgraphs.pricing.types import (
    Amenity,
    HoursOfServiceRules,
    Hub,
    PricingModifier,
    PricingRule,
    PromoCode,
    QuoteLine,
)

RULES_ORDER = KeysetOrder(
    (models.PricingRule.rule_type, models.PricingRule.priority, models.PricingRule.id)
)
CODES_ORDER = KeysetOrder((models.PromoCode.code, models.PromoCode.id))
NEWEST_FIRST = KeysetOrder(
    (models.QuoteCalculation.calculated_at, models.QuoteCalculation.id), descending=True
)
#: The calculator's ceilings: a public endpoint prices plausible trips only.
MAX_ESTIMATE_MILES = Decimal(5000)
MAX_ESTIMATE_PASSENGERS = 1000


class RateLimitedError(CodedError):
    code = ErrorCode.RATE_LIMITED


@strawberry.input(description="A trip for the public calculator; nothing is stored.")
class EstimateInput:
    trip_type: TripType
    pickup_local: str = strawberry.field(
        description="Local wall time without an offset, e.g. 2026-05-01T07:30 (as charters')."
    )
    pickup_time_zone: str = "America/Chicago"
    passengers: int
    miles: Decimal | None = strawberry.field(
        default=None, description="Trip miles; or give `stops` to estimate them."
    )
    stops: list[list[float]] | None = strawberry.field(
        default=None, description="[latitude, longitude] pairs in order."
    )
    hours: Decimal | None = strawberry.field(
        default=None, description="Pickup to end; default: the driving time."
    )
    vehicle_type_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Default: the recommended vehicles."
    )


@strawberry.type(description="The calculator's answer: the same engine as real quotes.")
class Estimate:
    total: Money
    subtotal: Money
    tax: Money
    lines: list[QuoteLine]
    miles: Decimal
    distance_estimated: bool


@strawberry.type(description="Vehicles of one type in a recommendation.")
class VehicleRecommendation:
    vehicle_type_id: strawberry.ID
    name: str
    capacity: int
    count: int
    unit_price: Money = strawberry.field(description="One vehicle of this type for the trip.")


@strawberry.type(description="One stored calculation of a charter's quote.")
class QuoteRecord:
    id: strawberry.ID
    charter_id: strawberry.ID
    client_id: strawberry.ID | None
    total: Money
    lines: list[QuoteLine]
    accepted: bool
    calculated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> QuoteRecord:
        return cls(
            id=strawberry.ID(str(row.id)),
            charter_id=strawberry.ID(str(row.charter_id)),
            client_id=strawberry.ID(str(row.client_id)) if row.client_id else None,
            total=row.total,
            lines=[
                QuoteLine(
                    label=x["label"], kind=QuoteLineKind(x["kind"]), amount=Decimal(x["amount"])
                )
                for x in row.lines
            ],
            accepted=row.accepted,
            calculated_at=row.calculated_at,
        )


def _local(value: str) -> datetime:
    """A local wall time (no offset), as charters takes `pickupLocal`."""
    try:
        local = datetime.fromisoformat(value)
    except ValueError:
        raise BadUserInputError("pickupLocal is a local time such as 2026-05-01T07:30.") from None
    if local.tzinfo is not None:
        raise BadUserInputError("Give pickupLocal without an offset; the zone says where.")
    return local


def _trip(data: EstimateInput, road_factor: Decimal, speed: Decimal) -> tuple[TripFacts, bool]:
    try:
        ZoneInfo(data.pickup_time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadUserInputError(f"Unknown time zone {data.pickup_time_zone!r}.") from None
    pickup_local = _local(data.pickup_local)
    if not 1 <= data.passengers <= MAX_ESTIMATE_PASSENGERS:
        raise BadUserInputError(f"Passengers are between 1 and {MAX_ESTIMATE_PASSENGERS}.")
    if data.miles is not None:
        if not Decimal(0) <= data.miles <= MAX_ESTIMATE_MILES:
            raise BadUserInputError(f"Miles are between 0 and {MAX_ESTIMATE_MILES}.")
        miles, estimated = data.miles, False
    elif data.stops and 2 <= len(data.stops) <= 25 and all(len(p) == 2 for p in data.stops):
        points = [(p[0], p[1]) for p in data.stops]
        if any(not (-90 <= a <= 90 and -180 <= b <= 180) for a, b in points):
            raise BadUserInputError("Stops are [latitude, longitude] pairs.")
        miles, estimated = estimated_miles(points, road_factor), True
        if miles > MAX_ESTIMATE_MILES:
            raise BadUserInputError(f"Trips up to {MAX_ESTIMATE_MILES} miles.")
    else:
        raise BadUserInputError("Give the trip's miles, or 2 to 25 stops as [lat, lon].")
    hours = data.hours if data.hours is not None else (miles / speed).quantize(Decimal("0.1"))
    if not Decimal(0) <= hours <= Decimal(24 * 14):
        raise BadUserInputError("Hours are between 0 and 336.")
    trip = TripFacts(
        pickup_local=pickup_local,
        hours=hours,
        miles=miles,
        trip_type=data.trip_type.value,
        passengers=data.passengers,
        vehicles=(),
    )
    return trip, estimated


@strawberry.type
class Query:
    @strawberry.field(extensions=[allow(*READ_PRICE_LIST)], description="The price list's rules.")
    async def pricing_rules(
        self,
        info: Info,
        first: int | None = 50,
        after: str | None = None,
        type: RuleType | None = None,
        active: bool | None = None,
    ) -> Connection[PricingRule]:
        stmt = select(models.PricingRule)
        if type is not None:
            stmt = stmt.where(models.PricingRule.rule_type == type.value)
        if active is not None:
            stmt = stmt.where(models.PricingRule.active.is_(active))
        async with info.context.sessions() as session:
            return await paginate(
                session, stmt, RULES_ORDER, first=first, after=after, to_node=PricingRule.from_row
            )

    @strawberry.field(extensions=[allow(*READ_PRICE_LIST)])
    async def pricing_rule(self, info: Info, id: strawberry.ID) -> PricingRule | None:
        key = parse_uuid(id)
        if key is None:
            return None
        async with info.context.sessions() as session:
            row = await session.get(models.PricingRule, key)
        return PricingRule.from_row(row) if row else None

    @strawberry.field(extensions=[allow(*READ_PRICE_LIST)])
    async def promo_codes(
        self,
        info: Info,
        first: int | None = 50,
        after: str | None = None,
        active: bool | None = None,
    ) -> Connection[PromoCode]:
        stmt = select(models.PromoCode)
        if active is not None:
            stmt = stmt.where(models.PromoCode.active.is_(active))
        async with info.context.sessions() as session:
            return await paginate(
                session, stmt, CODES_ORDER, first=first, after=after, to_node=PromoCode.from_row
            )

    @strawberry.field(
        extensions=[allow()],
        description="The amenities on offer, in display order (inactive ones: price-list editors).",
    )
    async def amenities(self, info: Info, include_inactive: bool = False) -> list[Amenity]:
        viewer = await info.context.get_viewer()
        stmt = select(models.Amenity).order_by(models.Amenity.display_order, models.Amenity.name)
        if not (include_inactive and viewer.has_any_role(*EDIT_PRICE_LIST)):
            stmt = stmt.where(models.Amenity.active)
        async with info.context.sessions() as session:
            return [Amenity.from_row(r) for r in await session.scalars(stmt.limit(500))]

    @strawberry.field(extensions=[allow(*READ_PRICE_LIST)], description="At most 500.")
    async def pricing_modifiers(self, info: Info) -> list[PricingModifier]:
        stmt = select(models.Modifier).order_by(
            models.Modifier.priority.desc(), models.Modifier.name
        )
        async with info.context.sessions() as session:
            return [PricingModifier.from_row(r) for r in await session.scalars(stmt.limit(500))]

    @strawberry.field(extensions=[allow(*READ_PRICE_LIST)], description="At most 500.")
    async def hubs(self, info: Info) -> list[Hub]:
        async with info.context.sessions() as session:
            rows = await session.scalars(select(models.Hub).order_by(models.Hub.code).limit(500))
            return [Hub.from_row(r) for r in rows]

    @strawberry.field(extensions=[allow(*READ_PRICE_LIST)])
    async def hours_of_service_rules(self, info: Info) -> HoursOfServiceRules:
        async with info.context.sessions() as session, session.begin():
            return HoursOfServiceRules.from_row(await catalogue.hours_rules(session))

    @strawberry.field(
        extensions=[allow(*READ_QUOTES)],
        description="Stored calculations of a charter's or a client's quotes, newest first "
        "(staff only).",
    )
    async def quote_history(
        self,
        info: Info,
        charter_id: strawberry.ID | None = None,
        client_id: strawberry.ID | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[QuoteRecord]:
        charter, client = parse_uuid(charter_id), parse_uuid(client_id)
        if charter is None and client is None:
            raise BadUserInputError("Give a charterId or a clientId.")
        stmt = select(models.QuoteCalculation)
        if charter is not None:
            stmt = stmt.where(models.QuoteCalculation.charter_id == charter)
        if client is not None:
            stmt = stmt.where(models.QuoteCalculation.client_id == client)
        async with info.context.sessions() as session:
            return await paginate(
                session, stmt, NEWEST_FIRST, first=first, after=after, to_node=QuoteRecord.from_row
            )

    @strawberry.field(
        description="The public calculator: anyone, signed in or not; the same engine as real "
        "quotes, nothing stored; rate limited per caller address (RATE_LIMITED)."
    )
    async def estimate_quote(self, info: Info, input: EstimateInput) -> Estimate:
        settings = info.context.settings
        key = f"pricing:estimate:{info.context.client_ip}"
        if not await allowed(info.context.redis, key, settings.pricing_estimates_per_minute, 60):
            raise RateLimitedError("Too many estimates from your address; try again in a minute.")
        async with info.context.sessions() as session, session.begin():
            prices = await current_price_list(session)
            trip, estimated = _trip(input, prices.road_factor, prices.hours.average_speed_mph)
            types = await facts.vehicle_types(session)
        wanted = {str(v) for v in input.vehicle_type_ids or []}
        if wanted:
            chosen = [t for t in types if str(t.id) in wanted]
            if len(chosen) != len(wanted):
                raise BadUserInputError("Unknown vehicle types.")
            vehicles = tuple(VehicleFacts(t.id, t.name) for t in chosen)
        else:
            picks = recommend.cheapest(trip.passengers, recommend.unit_prices(trip, types, prices))
            vehicles = tuple(
                VehicleFacts(p.vehicle_type.id, p.vehicle_type.name, p.count) for p in picks
            )
            if not vehicles:
                raise BadUserInputError("No vehicle types are offered yet.")
        priced = quotes.estimate(replace(trip, vehicles=vehicles), prices)
        return Estimate(
            total=priced.total,
            subtotal=priced.subtotal,
            tax=priced.tax,
            lines=[
                QuoteLine(label=x.label, kind=QuoteLineKind(x.kind), amount=x.amount)
                for x in priced.lines
            ],
            miles=trip.miles,
            distance_estimated=estimated,
        )

    @strawberry.field(
        extensions=[allow(*READ_PRICE_LIST)],
        description="The cheapest set of vehicle types that seats the party at today's rates "
        "(for a trip of `miles` and `hours`, 0 by default).",
    )
    async def recommend_vehicles(
        self,
        info: Info,
        passengers: int,
        trip_type: TripType,
        miles: Decimal = Decimal(0),
        hours: Decimal = Decimal(0),
        pickup_local: Annotated[
            str | None, strawberry.argument(description="Local wall time, no offset; default: now.")
        ] = None,
    ) -> list[VehicleRecommendation]:
        if not 1 <= passengers <= recommend.MAX_PASSENGERS:
            raise BadUserInputError(f"Passengers are between 1 and {recommend.MAX_PASSENGERS}.")
        if miles < 0 or hours < 0:
            raise BadUserInputError("Miles and hours cannot be negative.")
        zone = ZoneInfo(info.context.settings.operator_time_zone)
        local = (
            _local(pickup_local)
            if pickup_local
            else datetime.now(UTC).astimezone(zone).replace(tzinfo=None)
        )
        trip = TripFacts(
            pickup_local=local.replace(tzinfo=None),
            hours=hours,
            miles=miles,
            trip_type=trip_type.value,
            passengers=passengers,
            vehicles=(),
        )
        async with info.context.sessions() as session, session.begin():
            prices = await current_price_list(session)
            types = await facts.vehicle_types(session)
        picks = recommend.cheapest(passengers, recommend.unit_prices(trip, types, prices))
        return [
            VehicleRecommendation(
                vehicle_type_id=strawberry.ID(str(p.vehicle_type.id)),
                name=p.vehicle_type.name,
                capacity=p.vehicle_type.capacity,
                count=p.count,
                unit_price=p.unit_price,
            )
            for p in picks
        ]
