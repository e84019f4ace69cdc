"""Pricing's tables, all in the `pricing` PostgreSQL schema.

Charters, clients, vehicle types and users are owned elsewhere: plain UUID
columns here, never a foreign key. Rates and factors are NUMERIC(12,4)
(a fuel surcharge of 0.0125 a mile is a rate, not an amount); amounts are
`MONEY`, NUMERIC(12,2).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from subgraphs.kit.models import (
    COORDINATE,
    MONEY,
    Timestamps,
    UUIDPrimaryKey,
    one_of,
    schema_metadata,
)
from subgraphs.kit.outbox import outbox_table
from subgraphs.pricing.engine.inputs import AMENITY_PRICING, MODIFIER_KINDS, RULE_TYPES, SCOPES

SCHEMA = "pricing"
RATE = Numeric(12, 4)


class Base(AsyncAttrs, DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


class ConditionColumns:
    """When a rule or modifier applies (`engine.inputs.Conditions`); empty means always."""

    #: ISO weekdays 1 (Monday) to 7 (Sunday).
    days_of_week: Mapped[list[int]] = mapped_column(ARRAY(SmallInteger), default=list)
    #: [{"from": "2026-07-01", "until": "2026-07-04"}, ...], inclusive local dates.
    date_ranges: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)
    vehicle_type_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list)
    trip_types: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)


class PricingRule(UUIDPrimaryKey, ConditionColumns, Timestamps, Base):
    """One line of the operator's price list; the engine chooses among them."""

    __tablename__ = "rules"
    __table_args__ = (
        one_of("rule_type", RULE_TYPES, "rule_type"),
        one_of("scope", SCOPES, "scope"),
        CheckConstraint("(scope = 'global') = (scope_value IS NULL)", name="scope_value"),
        CheckConstraint(
            "valid_until IS NULL OR valid_from IS NULL OR valid_from <= valid_until",
            name="validity",
        ),
        Index("ix_rules_type_active", "rule_type", "active"),
    )

    name: Mapped[str] = mapped_column(String(200))
    rule_type: Mapped[str] = mapped_column(String(30))
    scope: Mapped[str] = mapped_column(String(20), default="global")
    #: The client or vehicle type id, the hub code or the route ("MEM-BNA") the scope names.
    scope_value: Mapped[str | None] = mapped_column(String(100))
    value: Mapped[Decimal] = mapped_column(RATE)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RuleChange(UUIDPrimaryKey, Base):
    """Field-level history of a rule: who changed which field from what to what, when."""

    __tablename__ = "rule_changes"
    __table_args__ = (Index("ix_rule_changes_rule_at", "rule_id", "at"),)

    rule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rules.id", ondelete="CASCADE"))
    field: Mapped[str] = mapped_column(String(50))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    impersonator_id: Mapped[uuid.UUID | None] = mapped_column()
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Hub(UUIDPrimaryKey, Timestamps, Base):
    """An operator garage: a trip's hub is the nearest one to its pickup, within the radius.

    Rules and modifiers scoped to a hub use its code; to a route, the codes
    of the hubs nearest the first and last stops ("MEM-BNA").
    """

    __tablename__ = "hubs"
    __table_args__ = (CheckConstraint("radius_miles > 0", name="radius"),)

    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    latitude: Mapped[Decimal] = mapped_column(COORDINATE)
    longitude: Mapped[Decimal] = mapped_column(COORDINATE)
    radius_miles: Mapped[int] = mapped_column(Integer, default=50)


AMENITY_CATEGORIES = ("refreshments", "entertainment", "comfort", "accessibility")


class Amenity(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "amenities"
    __table_args__ = (
        one_of("category", AMENITY_CATEGORIES, "category"),
        one_of("pricing_type", AMENITY_PRICING, "pricing_type"),
        CheckConstraint("price >= 0", name="price"),
    )

    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(20))
    pricing_type: Mapped[str] = mapped_column(String(20))
    price: Mapped[Decimal] = mapped_column(MONEY)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    display_order: Mapped[int] = mapped_column(Integer, default=0)


class CharterAmenity(UUIDPrimaryKey, Base):
    """An amenity on a charter, priced when added: later catalogue changes do not reprice it."""

    __tablename__ = "charter_amenities"
    __table_args__ = (
        Index("uq_charter_amenities_once", "charter_id", "amenity_id", unique=True),
        CheckConstraint("quantity >= 1 AND quantity <= 1000", name="quantity"),
    )

    charter_id: Mapped[uuid.UUID] = mapped_column()
    amenity_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("amenities.id"))
    name: Mapped[str] = mapped_column(String(100))
    pricing_type: Mapped[str] = mapped_column(String(20))
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    added_by: Mapped[uuid.UUID | None] = mapped_column()
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


DISCOUNT_TYPES = ("percentage", "fixed")


class PromoCode(UUIDPrimaryKey, Timestamps, Base):
    """A discount code. `uses` only grows through one conditional UPDATE (see service/promos).

    The database refuses `uses > max_uses`, so no interleaving of redemptions
    can overspend a code, whatever the application does.
    """

    __tablename__ = "promo_codes"
    __table_args__ = (
        one_of("discount_type", DISCOUNT_TYPES, "discount_type"),
        CheckConstraint("value > 0", name="value"),
        CheckConstraint("discount_type <> 'percentage' OR value <= 100", name="percentage"),
        CheckConstraint("max_uses IS NULL OR max_uses >= 1", name="max_uses"),
        CheckConstraint("uses >= 0 AND (max_uses IS NULL OR uses <= max_uses)", name="uses"),
        CheckConstraint("code = upper(code)", name="code_upper"),
    )

    code: Mapped[str] = mapped_column(String(50), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    discount_type: Mapped[str] = mapped_column(String(20))
    value: Mapped[Decimal] = mapped_column(MONEY)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    max_uses: Mapped[int | None] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    once_per_client: Mapped[bool] = mapped_column(Boolean, default=False)
    minimum_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    vehicle_type_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list)
    trip_types: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column()


class PromoRedemption(UUIDPrimaryKey, Base):
    """A code applied to a charter: the usage log, and the charter's applied code.

    One code per charter (unique charter_id); once-per-client codes are held
    to one redemption per client by a partial unique index.
    """

    __tablename__ = "promo_redemptions"
    __table_args__ = (
        Index("uq_promo_redemptions_charter", "charter_id", unique=True),
        Index(
            "uq_promo_redemptions_once_per_client",
            "promo_code_id",
            "client_id",
            unique=True,
            postgresql_where=text("once_per_client"),
        ),
    )

    promo_code_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("promo_codes.id"))
    charter_id: Mapped[uuid.UUID] = mapped_column()
    client_id: Mapped[uuid.UUID | None] = mapped_column()
    once_per_client: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The discount when applied (the quote recalculates it; this is the usage log's figure).
    discount: Mapped[Decimal | None] = mapped_column(MONEY)
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Modifier(UUIDPrimaryKey, ConditionColumns, Timestamps, Base):
    __tablename__ = "modifiers"
    __table_args__ = (
        one_of("kind", MODIFIER_KINDS, "kind"),
        one_of("adjustment", DISCOUNT_TYPES, "adjustment"),
        CheckConstraint(
            "adjustment <> 'percentage' OR (value >= -100 AND value <= 100)", name="percentage"
        ),
        CheckConstraint("kind <> 'asap' OR within_hours IS NOT NULL", name="asap_hours"),
    )

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    adjustment: Mapped[str] = mapped_column(String(20))
    value: Mapped[Decimal] = mapped_column(MONEY)
    hub_codes: Mapped[list[str]] = mapped_column(ARRAY(String(10)), default=list)
    within_hours: Mapped[int | None] = mapped_column(Integer)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    exclusive: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class HoursOfServiceRules(Base):
    """The operator's hours-of-service limits (one row); FMCSA 49 CFR 395.5 by default."""

    __tablename__ = "hours_of_service"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    max_driving_hours: Mapped[Decimal] = mapped_column(Numeric(4, 1), default=Decimal(10))
    max_on_duty_hours: Mapped[Decimal] = mapped_column(Numeric(4, 1), default=Decimal(15))
    cycle_hours: Mapped[Decimal] = mapped_column(Numeric(4, 1), default=Decimal(60))
    cycle_days: Mapped[int] = mapped_column(Integer, default=7)
    average_speed_mph: Mapped[Decimal] = mapped_column(Numeric(4, 1), default=Decimal(50))
    updated_by: Mapped[uuid.UUID | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class VehicleTypeFact(Base):
    """Charters' vehicle types as pricing needs them, from `charters.vehicle_type_changed`."""

    __tablename__ = "vehicle_types"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    capacity: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CharterFact(Base):
    """Charters' facts pricing's mutations need, from `charters.charter_changed`.

    Reading a quote gets its facts from charters through `@requires`; a
    mutation (apply a code, add an amenity) has only a charter id, so pricing
    keeps who the charter is for, who sells it, what it is and its status.
    """

    __tablename__ = "charter_facts"

    charter_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    client_id: Mapped[uuid.UUID | None] = mapped_column()
    sales_agent_id: Mapped[uuid.UUID | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(20))
    trip_type: Mapped[str | None] = mapped_column(String(20))
    pickup_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    vehicle_type_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid), default=list)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class QuoteCalculation(UUIDPrimaryKey, Base):
    """One calculation of a charter's price: its inputs and its lines, as shown.

    `inputs_hash` covers the trip facts and every rule, modifier, amenity
    and code the engine was given, so reading an unchanged quote again finds
    this row instead of adding one. A booked charter's accepted calculation
    is the one it keeps; later edits to the price list do not touch it.
    """

    __tablename__ = "quotes"
    __table_args__ = (
        Index("uq_quotes_charter_inputs", "charter_id", "inputs_hash", unique=True),
        Index("ix_quotes_client_at", "client_id", "calculated_at"),
        Index(
            "uq_quotes_accepted",
            "charter_id",
            unique=True,
            postgresql_where=text("accepted"),
        ),
    )

    charter_id: Mapped[uuid.UUID] = mapped_column()
    client_id: Mapped[uuid.UUID | None] = mapped_column()
    inputs_hash: Mapped[str] = mapped_column(String(64))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONB)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    subtotal: Mapped[Decimal] = mapped_column(MONEY)
    discount: Mapped[Decimal] = mapped_column(MONEY)
    tax: Mapped[Decimal] = mapped_column(MONEY)
    total: Mapped[Decimal] = mapped_column(MONEY)
    distance_estimated: Mapped[bool] = mapped_column(Boolean, default=False)
    accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    calculated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


outbox = outbox_table(Base.metadata)
