"""Pricing's GraphQL types: thin views over rows and over the engine's answers.

`Charter.quote` is the federation piece: pricing declares the charter
facts it needs as `@external` and `@requires` them, so the router fetches
them from charters (as the reader) and hands them to pricing with the
entity reference. Who may read a quote is decided here from those facts
(`access.may_read_quote`): staff, or the client whose charter it is.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.kit.errors import ForbiddenError, UnauthenticatedError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.scalars import Money
from subgraphs.pricing import loaders as L
from subgraphs.pricing.engine.inputs import VehicleFacts
from subgraphs.pricing.enums import (
    AmenityCategory,
    AmenityPricing,
    CharterStatus,
    DiscountType,
    ModifierKind,
    QuoteLineKind,
    RuleScope,
    RuleType,
    TripType,
)
from subgraphs.pricing.service.access import may_read_quote
from subgraphs.pricing.service.quotes import CharterFacts, ShownQuote
from subgraphs.pricing.service.rules import plain_number

#: The charter facts `Charter.quote` needs, fetched from charters by the router.
QUOTE_FACTS = (
    "status tripType passengerCount pickupAt pickupLocal pickupTimeZone endsAt "
    "requiresSecondDriver estimatedMiles client { id } "
    "vehicles { vehicleType { id name } } stops { latitude longitude }"
)


def gid(value: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(str(value))


@strawberry.type(description="One line of a quote, as the engine priced it.")
class QuoteLine:
    label: str
    kind: QuoteLineKind
    amount: Money


@strawberry.type(description="A charter's price: its lines add up to the total.")
class Quote:
    id: strawberry.ID
    subtotal: Money
    discount: Money
    tax: Money
    total: Money
    lines: list[QuoteLine]
    calculated_at: datetime
    distance_estimated: bool = strawberry.field(
        description="True when the miles were estimated from the stops (great-circle legs times "
        "the road factor), not entered by the agent."
    )
    accepted: bool = strawberry.field(
        description="The quote the charter was booked at; later price-list edits leave it alone."
    )
    promo_note: str | None = strawberry.field(
        description="Why the charter's promo code did not discount this quote, if it did not."
    )

    @classmethod
    def from_shown(cls, shown: ShownQuote) -> Quote:
        row = shown.calculation
        return cls(
            id=gid(row.id),
            subtotal=row.subtotal,
            discount=row.discount,
            tax=row.tax,
            total=row.total,
            lines=[
                QuoteLine(
                    label=x["label"], kind=QuoteLineKind(x["kind"]), amount=Decimal(x["amount"])
                )
                for x in row.lines
            ],
            calculated_at=row.calculated_at,
            distance_estimated=row.distance_estimated,
            accepted=row.accepted,
            promo_note=shown.promo_note,
        )


@strawberry.type(description="Whether hours of service need a second driver on this trip, and why.")
class SecondDriverRecommendation:
    needed: bool
    reasons: list[str]
    driving_hours: Decimal = strawberry.field(description="Planned driving hours (miles / speed).")
    on_duty_hours: Decimal


@strawberry.federation.type(keys=["id"])
class Client:
    id: strawberry.ID


@strawberry.type
class VehicleType:
    id: strawberry.ID = strawberry.federation.field(external=True)
    name: str = strawberry.federation.field(external=True)


@strawberry.federation.type(keys=["id"])
class CharterVehicle:
    id: strawberry.ID
    vehicle_type: VehicleType = strawberry.federation.field(external=True)


@strawberry.type
class Stop:
    latitude: float | None = strawberry.federation.field(external=True)
    longitude: float | None = strawberry.federation.field(external=True)


def _facts(rep: dict[str, Any]) -> CharterFacts | None:
    """The `@requires` facts of one representation; None when charters withheld some."""
    try:
        vehicles: dict[tuple[str, str], int] = {}
        for v in rep.get("vehicles") or []:
            key = (v["vehicleType"]["id"], v["vehicleType"]["name"])
            vehicles[key] = vehicles.get(key, 0) + 1
        miles = rep.get("estimatedMiles")
        client = rep.get("client") or {}
        return CharterFacts(
            charter_id=uuid.UUID(rep["id"]),
            status=str(rep["status"]).lower(),
            trip_type=str(rep["tripType"]).lower(),
            passengers=int(rep["passengerCount"]),
            pickup_local=datetime.fromisoformat(rep["pickupLocal"]),
            time_zone=rep["pickupTimeZone"],
            pickup_at=datetime.fromisoformat(rep["pickupAt"]),
            ends_at=datetime.fromisoformat(rep["endsAt"]) if rep.get("endsAt") else None,
            client_id=uuid.UUID(client["id"]) if client.get("id") else None,
            vehicles=tuple(
                VehicleFacts(uuid.UUID(type_id), name, count)
                for (type_id, name), count in sorted(vehicles.items())
            ),
            points=tuple(
                (float(s["latitude"]), float(s["longitude"]))
                for s in rep.get("stops") or []
                if s.get("latitude") is not None and s.get("longitude") is not None
            ),
            entered_miles=Decimal(str(miles)) if miles is not None else None,
            second_driver_requested=bool(rep.get("requiresSecondDriver")),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _external(default: Any = None) -> Any:
    """An `@external` field: charters resolves it; pricing only receives it in references."""
    return strawberry.federation.field(external=True, default=default)


@strawberry.federation.type(keys=["id"])
class Charter:
    # Types as charters declares them (composition requires it); pricing never
    # resolves these, so the None defaults are never served.
    id: strawberry.ID
    status: CharterStatus = _external()
    trip_type: TripType = _external()
    passenger_count: int = _external()
    pickup_at: datetime = _external()
    pickup_local: str = _external()
    pickup_time_zone: str = _external()
    ends_at: datetime | None = _external()
    requires_second_driver: bool = _external()
    estimated_miles: Decimal | None = _external()
    client: Client | None = _external()
    vehicles: list[CharterVehicle] = _external()
    stops: list[Stop] = _external()
    _facts: strawberry.Private[CharterFacts | None] = None
    #: The charter's client from the reference (`amenities` requires only that).
    _client_id: strawberry.Private[str | None] = None

    @classmethod
    def resolve_reference(cls, info: Info, **representation: Any) -> Charter:
        client = representation.get("client") or {}
        return cls(
            id=strawberry.ID(str(representation["id"])),
            _facts=_facts(representation),
            _client_id=client.get("id") if isinstance(client, dict) else None,
        )

    async def _readable_facts(self, info: Info) -> CharterFacts | None:
        viewer = await info.context.get_viewer()
        if not viewer.is_authenticated:
            raise UnauthenticatedError()
        if self._facts is None:
            return None
        if not may_read_quote(viewer, self._facts.client_id):
            raise ForbiddenError("You may not see this charter's price.")
        return self._facts

    @strawberry.federation.field(
        requires=[QUOTE_FACTS],
        description="The charter's price from pricing's rules: staff, and the charter's own "
        "client (others get null and FORBIDDEN). Booked charters keep their accepted quote.",
    )
    async def quote(self, info: Info) -> Quote | None:
        facts = await self._readable_facts(info)
        if facts is None:
            return None
        shown = await info.context.loaders.get(L.QuoteByFactsLoader).load(facts)
        return Quote.from_shown(shown)

    @strawberry.federation.field(
        requires=["client { id }"],
        description="The amenities on this charter at the prices they were added at: staff and "
        "the charter's own client (others get null and FORBIDDEN).",
    )
    async def amenities(self, info: Info) -> list[CharterAmenity] | None:
        viewer = await info.context.get_viewer()
        if not viewer.is_authenticated:
            raise UnauthenticatedError()
        client = parse_uuid(self._client_id)
        if not may_read_quote(viewer, client):
            raise ForbiddenError("You may not see this charter's price.")
        key = parse_uuid(self.id)
        if key is None:
            return []
        rows = await info.context.loaders.get(L.AmenitiesByCharterLoader).load(key)
        return [CharterAmenity.from_row(r) for r in rows]

    @strawberry.federation.field(
        requires=[QUOTE_FACTS],
        description="Hours of service (FMCSA 49 CFR 395.5 as configured): whether this trip "
        "needs a second driver, and why.",
    )
    async def second_driver_recommendation(self, info: Info) -> SecondDriverRecommendation | None:
        facts = await self._readable_facts(info)
        if facts is None:
            return None
        driver = (await info.context.loaders.get(L.QuoteByFactsLoader).load(facts)).plan.driver
        return SecondDriverRecommendation(
            needed=driver.needed,
            reasons=list(driver.reasons),
            driving_hours=driver.driving_hours.quantize(Decimal("0.1")),
            on_duty_hours=driver.on_duty_hours.quantize(Decimal("0.1")),
        )


@strawberry.type(description="A change to one field of a pricing rule.")
class RuleChange:
    field: str
    old_value: str | None
    new_value: str | None
    changed_by: strawberry.ID | None
    changed_at: datetime


@strawberry.type(description="An inclusive range of local dates.")
class DateRange:
    from_: date = strawberry.field(name="from")
    until: date


def _ranges(raw: list[dict[str, str]] | None) -> list[DateRange]:
    return [
        DateRange(from_=date.fromisoformat(r["from"]), until=date.fromisoformat(r["until"]))
        for r in raw or []
    ]


@strawberry.type(description="One line of the price list.")
class PricingRule:
    id: strawberry.ID
    name: str
    type: RuleType
    scope: RuleScope
    scope_value: str | None
    value: Decimal = strawberry.field(
        description="A rate or amount (350.00, 2.50 a mile), a factor (1.25), or a percentage "
        "(client_specific, -10 is a 10 % discount)."
    )
    priority: int
    valid_from: date | None
    valid_until: date | None
    days_of_week: list[int] = strawberry.field(description="ISO weekdays: 1 Monday ... 7 Sunday.")
    date_ranges: list[DateRange]
    vehicle_type_ids: list[strawberry.ID]
    trip_types: list[TripType]
    active: bool
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> PricingRule:
        return cls(
            id=gid(row.id),
            name=row.name,
            type=RuleType(row.rule_type),
            scope=RuleScope(row.scope),
            scope_value=row.scope_value,
            value=plain_number(row.value),
            priority=row.priority,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            days_of_week=list(row.days_of_week or []),
            date_ranges=_ranges(row.date_ranges),
            vehicle_type_ids=[gid(v) for v in row.vehicle_type_ids or []],
            trip_types=[TripType(t) for t in row.trip_types or []],
            active=row.active,
            updated_at=row.updated_at,
        )

    @strawberry.field(description="Every change, oldest first: who, when, field, old, new.")
    async def history(self, info: Info) -> list[RuleChange]:
        rows = await info.context.loaders.get(L.ChangesByRuleIdLoader).load(uuid.UUID(self.id))
        return [
            RuleChange(
                field=r.field,
                old_value=r.old_value,
                new_value=r.new_value,
                changed_by=gid(r.actor_id) if r.actor_id else None,
                changed_at=r.at,
            )
            for r in rows
        ]


@strawberry.type
class Amenity:
    id: strawberry.ID
    name: str
    description: str | None
    category: AmenityCategory
    pricing: AmenityPricing
    price: Money
    active: bool
    display_order: int

    @classmethod
    def from_row(cls, row: Any) -> Amenity:
        return cls(
            id=gid(row.id),
            name=row.name,
            description=row.description,
            category=AmenityCategory(row.category),
            pricing=AmenityPricing(row.pricing_type),
            price=row.price,
            active=row.active,
            display_order=row.display_order,
        )


@strawberry.type(description="An amenity on a charter, at the price it had when added.")
class CharterAmenity:
    amenity_id: strawberry.ID
    charter_id: strawberry.ID
    name: str
    pricing: AmenityPricing
    unit_price: Money
    quantity: int
    added_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> CharterAmenity:
        return cls(
            amenity_id=gid(row.amenity_id),
            charter_id=gid(row.charter_id),
            name=row.name,
            pricing=AmenityPricing(row.pricing_type),
            unit_price=row.unit_price,
            quantity=row.quantity,
            added_at=row.added_at,
        )


@strawberry.type
class PromoCode:
    id: strawberry.ID
    code: str
    description: str | None
    discount_type: DiscountType
    value: Money
    valid_from: date | None
    valid_until: date | None
    max_uses: int | None
    uses: int
    once_per_client: bool
    minimum_amount: Money | None
    vehicle_type_ids: list[strawberry.ID]
    trip_types: list[TripType]
    active: bool

    @classmethod
    def from_row(cls, row: Any) -> PromoCode:
        return cls(
            id=gid(row.id),
            code=row.code,
            description=row.description,
            discount_type=DiscountType(row.discount_type),
            value=row.value,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            max_uses=row.max_uses,
            uses=row.uses,
            once_per_client=row.once_per_client,
            minimum_amount=row.minimum_amount,
            vehicle_type_ids=[gid(v) for v in row.vehicle_type_ids or []],
            trip_types=[TripType(t) for t in row.trip_types or []],
            active=row.active,
        )

    @strawberry.field(description="The usage log, newest first.")
    async def redemptions(self, info: Info) -> list[PromoRedemption]:
        rows = await info.context.loaders.get(L.RedemptionsByCodeLoader).load(uuid.UUID(self.id))
        return [PromoRedemption.from_row(r) for r in rows]


@strawberry.type(description="One use of a promo code.")
class PromoRedemption:
    charter_id: strawberry.ID
    client_id: strawberry.ID | None
    discount: Money | None
    at: datetime

    @classmethod
    def from_row(cls, row: Any) -> PromoRedemption:
        return cls(
            charter_id=gid(row.charter_id),
            client_id=gid(row.client_id) if row.client_id else None,
            discount=row.discount,
            at=row.at,
        )


@strawberry.type(description="An adjustment on the rules' subtotal; see `price` for stacking.")
class PricingModifier:
    id: strawberry.ID
    name: str
    kind: ModifierKind
    adjustment: DiscountType
    value: Decimal
    days_of_week: list[int]
    date_ranges: list[DateRange]
    hub_codes: list[str]
    within_hours: int | None
    priority: int
    exclusive: bool
    active: bool

    @classmethod
    def from_row(cls, row: Any) -> PricingModifier:
        return cls(
            id=gid(row.id),
            name=row.name,
            kind=ModifierKind(row.kind),
            adjustment=DiscountType(row.adjustment),
            value=row.value,
            days_of_week=list(row.days_of_week or []),
            date_ranges=_ranges(row.date_ranges),
            hub_codes=list(row.hub_codes or []),
            within_hours=row.within_hours,
            priority=row.priority,
            exclusive=row.exclusive,
            active=row.active,
        )


@strawberry.type(description="An operator garage; a trip's hub is the nearest within its radius.")
class Hub:
    id: strawberry.ID
    code: str
    name: str
    latitude: Decimal
    longitude: Decimal
    radius_miles: int

    @classmethod
    def from_row(cls, row: Any) -> Hub:
        return cls(
            id=gid(row.id),
            code=row.code,
            name=row.name,
            latitude=row.latitude,
            longitude=row.longitude,
            radius_miles=row.radius_miles,
        )


@strawberry.type(description="Hours-of-service limits (FMCSA 49 CFR 395.5 by default).")
class HoursOfServiceRules:
    max_driving_hours: Decimal
    max_on_duty_hours: Decimal
    cycle_hours: Decimal
    cycle_days: int
    average_speed_mph: Decimal

    @classmethod
    def from_row(cls, row: Any) -> HoursOfServiceRules:
        tenth = Decimal("0.1")
        return cls(
            max_driving_hours=Decimal(row.max_driving_hours).quantize(tenth),
            max_on_duty_hours=Decimal(row.max_on_duty_hours).quantize(tenth),
            cycle_hours=Decimal(row.cycle_hours).quantize(tenth),
            cycle_days=row.cycle_days,
            average_speed_mph=Decimal(row.average_speed_mph).quantize(tenth),
        )
