"""Charters' quotes: the facts charters provides (`@requires`), priced, stored as shown.

`CharterFacts` is what the router fetched from charters for `Charter.quote`.
`quote_many` prices a batch of charters in a constant number of statements:
it loads the price list once, the charters' amenities and codes in one
query each, and the calculations already stored for the same inputs in
one more, then stores the new ones in one INSERT. A quote shown is a quote
stored: a calculation is keyed by its charter and the hash of everything
the engine was given, so reading an unchanged quote finds the row it made.

A charter that left the quote status keeps its accepted calculation (the
one current when pricing learned of the booking, or the first one priced
after it): later edits to the price list do not reprice a booked trip.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import bindparam, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import defer

from subgraphs.kit import json
from subgraphs.kit.geo import great_circle_miles
from subgraphs.kit.outbox import emit, wake_relay_after_commit
from subgraphs.pricing.engine import AmenityLine, PricedQuote, TripFacts, VehicleFacts, price
from subgraphs.pricing.engine.hours_of_service import HoursRules, SecondDriver, second_driver
from subgraphs.pricing.models import (
    CharterAmenity,
    Hub,
    PromoCode,
    PromoRedemption,
    QuoteCalculation,
    outbox,
)
from subgraphs.pricing.service import catalogue, promos, rules
from subgraphs.pricing.service.distance import estimated_miles

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

TENTH = Decimal("0.1")
QUOTE_ACCEPTED = "pricing.quote_accepted"
QUOTE_PRICED = "pricing.quote_priced"
HOUR = Decimal(3600)


@dataclass(frozen=True)
class CharterFacts:
    """A charter as charters describes it to pricing (the `@requires` selection)."""

    charter_id: uuid.UUID
    status: str
    trip_type: str
    passengers: int
    pickup_local: datetime
    time_zone: str
    pickup_at: datetime
    ends_at: datetime | None
    client_id: uuid.UUID | None
    vehicles: tuple[VehicleFacts, ...]
    #: (latitude, longitude) of the stops that have them, in itinerary order.
    points: tuple[tuple[float, float], ...]
    entered_miles: Decimal | None
    second_driver_requested: bool


@dataclass(frozen=True)
class PriceList:
    rules: tuple[Any, ...]
    modifiers: tuple[Any, ...]
    hubs: tuple[Hub, ...]
    hours: HoursRules
    road_factor: Decimal
    tax_rate: Decimal
    asap_in_force: bool
    #: The rules and modifiers as stored JSON, and their hash: made once per batch.
    listing: dict[str, Any]
    listing_digest: str


async def price_list(session: AsyncSession, road_factor: Decimal, tax_rate: Decimal) -> PriceList:
    modifiers = await catalogue.active_modifiers(session)
    active = await rules.active_rules(session)
    listing = {"rules": _plain(active), "modifiers": _plain(modifiers)}
    return PriceList(
        rules=active,
        modifiers=modifiers,
        hubs=tuple(await session.scalars(select(Hub).order_by(Hub.code))),
        hours=catalogue.hours_to_engine(await catalogue.hours_rules(session)),
        road_factor=road_factor,
        tax_rate=tax_rate,
        asap_in_force=any(m.kind == "asap" for m in modifiers),
        listing=listing,
        listing_digest=_digest(listing),
    )


def _nearest_hub(hubs: Sequence[Hub], point: tuple[float, float] | None) -> str | None:
    if point is None:
        return None
    best = None
    for hub in hubs:
        miles = great_circle_miles(point, (float(hub.latitude), float(hub.longitude)))
        if miles <= hub.radius_miles and (best is None or miles < best[0]):
            best = (miles, hub.code)
    return best[1] if best else None


@dataclass(frozen=True)
class TripPlan:
    """What the engine is told about a trip, and how the miles were found."""

    trip: TripFacts
    distance_estimated: bool
    driver: SecondDriver


def plan(facts: CharterFacts, prices: PriceList, now: datetime) -> TripPlan:
    if facts.entered_miles is not None:
        miles, estimated = facts.entered_miles.quantize(TENTH, ROUND_HALF_UP), False
    else:
        miles, estimated = estimated_miles(facts.points, prices.road_factor), True
    if facts.ends_at is not None and facts.ends_at > facts.pickup_at:
        seconds = Decimal(int((facts.ends_at - facts.pickup_at).total_seconds()))
        hours = (seconds / HOUR).quantize(TENTH, ROUND_HALF_UP)
    else:  # no end given: the driving time at the planning speed
        hours = (miles / prices.hours.average_speed_mph).quantize(TENTH, ROUND_HALF_UP)
    zone = ZoneInfo(facts.time_zone)
    end_local = (facts.ends_at or facts.pickup_at).astimezone(zone).date()
    days = max((end_local - facts.pickup_local.date()).days + 1, 1)
    driver = second_driver(miles, hours, days, prices.hours)
    start = _nearest_hub(prices.hubs, facts.points[0] if facts.points else None)
    finish = _nearest_hub(prices.hubs, facts.points[-1] if facts.points else None)
    quoted = now.astimezone(zone).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    trip = TripFacts(
        pickup_local=facts.pickup_local,
        hours=hours,
        miles=miles,
        trip_type=facts.trip_type,
        passengers=facts.passengers,
        vehicles=facts.vehicles,
        client_id=str(facts.client_id) if facts.client_id else None,
        hub=start,
        route=f"{start}-{finish}" if start and finish else None,
        # Only ASAP modifiers read the quoting time (to the hour, so a quote
        # read again within the hour is the same stored calculation).
        quoted_local=quoted if prices.asap_in_force else None,
        days=days,
        second_driver=facts.second_driver_requested or driver.needed,
        tax_rate=prices.tax_rate,
    )
    return TripPlan(trip, estimated, driver)


def _plain(value: Any) -> Any:
    """JSON-ready and canonical: sets sorted, so equal inputs hash equally."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, frozenset | set):
        return sorted((_plain(v) for v in value), key=str)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    return value


def _own_inputs(trip: TripFacts, amenities: tuple[AmenityLine, ...], promo: Any) -> dict[str, Any]:
    """What is particular to one charter's calculation (the price list is shared)."""
    return {"trip": _plain(trip), "amenities": _plain(amenities), "promo": _plain(promo)}


def _digest(value: Any) -> str:
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def _amenities(
    session: AsyncSession, ids: list[uuid.UUID]
) -> dict[uuid.UUID, tuple[AmenityLine, ...]]:
    rows = await session.scalars(
        select(CharterAmenity)
        .where(CharterAmenity.charter_id.in_(ids))
        .order_by(CharterAmenity.charter_id, CharterAmenity.added_at, CharterAmenity.id)
    )
    out: dict[uuid.UUID, list[AmenityLine]] = {}
    for row in rows:
        out.setdefault(row.charter_id, []).append(
            AmenityLine(row.name, row.pricing_type, row.unit_price, row.quantity)
        )
    return {k: tuple(v) for k, v in out.items()}


async def _promos(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, PromoCode]:
    rows = await session.execute(
        select(PromoRedemption.charter_id, PromoCode)
        .join(PromoCode, PromoCode.id == PromoRedemption.promo_code_id)
        .where(PromoRedemption.charter_id.in_(ids))
    )
    return {row[0]: row[1] for row in rows.all()}


@dataclass(frozen=True)
class ShownQuote:
    calculation: QuoteCalculation
    #: The trip as planned now (miles, hours, the second-driver check).
    plan: TripPlan
    promo_note: str | None


@dataclass(frozen=True)
class _Priced:
    facts: CharterFacts
    plan: TripPlan
    quote: PricedQuote
    own_inputs: dict[str, Any]
    digest: str


async def quote_many(
    session: AsyncSession, charters: Sequence[CharterFacts], prices: PriceList, now: datetime
) -> dict[uuid.UUID, ShownQuote]:
    """Each charter's quote, priced (or found) and stored, in a constant number of statements."""
    if not charters:
        return {}
    ids = [c.charter_id for c in charters]
    accepted = {
        row.charter_id: row
        for row in await session.scalars(
            select(QuoteCalculation)
            .options(defer(QuoteCalculation.inputs))
            .where(QuoteCalculation.charter_id.in_(ids), QuoteCalculation.accepted)
        )
    }
    out = {
        c.charter_id: ShownQuote(accepted[c.charter_id], plan(c, prices, now), None)
        for c in charters
        if c.status != "quote" and c.charter_id in accepted
    }
    todo = [c for c in charters if c.charter_id not in out]
    if not todo:
        return out
    amenities = await _amenities(session, [c.charter_id for c in todo])
    codes = await _promos(session, [c.charter_id for c in todo])
    priced = []
    for facts in todo:
        trip_plan = plan(facts, prices, now)
        code = codes.get(facts.charter_id)
        promo = promos.to_engine(code) if code else None
        lines = amenities.get(facts.charter_id, ())
        own = _own_inputs(trip_plan.trip, lines, promo)
        quote = price(trip_plan.trip, prices.rules, prices.modifiers, lines, promo)
        digest = _digest([prices.listing_digest, own])
        priced.append(_Priced(facts, trip_plan, quote, own, digest))
    # Reading an unchanged quote finds its row: only new calculations are written.
    stored = await _stored(session, [(p.facts.charter_id, p.digest) for p in priced])
    new = [p for p in priced if p.facts.charter_id not in stored]
    if new:
        await session.execute(
            insert(QuoteCalculation)
            .values([_row(p, prices, now) for p in new])
            .on_conflict_do_nothing(index_elements=["charter_id", "inputs_hash"])
        )
        stored |= await _stored(session, [(p.facts.charter_id, p.digest) for p in new])
        await announce_priced(
            session, [stored[p.facts.charter_id] for p in new if p.facts.status == "quote"]
        )
    # Booked before pricing kept any of its quotes: the first one priced is kept.
    keep = [stored[p.facts.charter_id] for p in priced if p.facts.status != "quote"]
    if keep:
        await session.execute(
            update(QuoteCalculation)
            .where(QuoteCalculation.id.in_([row.id for row in keep]))
            .values(accepted=True)
        )
        for row in keep:
            row.accepted = True
            await announce_accepted(session, row)
    # The usage log's discount follows the code's quote (one statement for the batch).
    discounts = [
        {"charter": p.facts.charter_id, "discount": p.quote.discount}
        for p in priced
        if p.facts.charter_id in codes and p.facts.status == "quote"
    ]
    if discounts:
        table = PromoRedemption.__table__
        await session.execute(
            table.update()
            .where(table.c.charter_id == bindparam("charter"))
            .values(discount=bindparam("discount")),
            discounts,
        )
    for p in priced:
        out[p.facts.charter_id] = ShownQuote(
            stored[p.facts.charter_id], p.plan, p.quote.promo_refusal
        )
    return out


async def _stored(
    session: AsyncSession, keys: list[tuple[uuid.UUID, str]]
) -> dict[uuid.UUID, QuoteCalculation]:
    """Stored calculations by (charter, inputs hash), without their (large) inputs."""
    rows = await session.scalars(
        select(QuoteCalculation)
        .options(defer(QuoteCalculation.inputs))
        .where(tuple_(QuoteCalculation.charter_id, QuoteCalculation.inputs_hash).in_(keys))
    )
    return {row.charter_id: row for row in rows}


def _row(p: _Priced, prices: PriceList, now: datetime) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "charter_id": p.facts.charter_id,
        "client_id": p.facts.client_id,
        "inputs_hash": p.digest,
        "inputs": {**p.own_inputs, **prices.listing, "priceList": prices.listing_digest},
        "lines": [
            {"label": x.label, "kind": x.kind, "amount": str(x.amount)} for x in p.quote.lines
        ],
        "subtotal": p.quote.subtotal,
        "discount": p.quote.discount,
        "tax": p.quote.tax,
        "total": p.quote.total,
        "distance_estimated": p.plan.distance_estimated,
        "accepted": False,
        "calculated_at": now,
    }


async def accept_latest(session: AsyncSession, charter_id: uuid.UUID) -> None:
    """The charter was booked: keep the quote it was shown last (if pricing priced it)."""
    held = await session.scalar(
        select(QuoteCalculation.id).where(
            QuoteCalculation.charter_id == charter_id, QuoteCalculation.accepted
        )
    )
    if held is not None:
        return
    latest = await session.scalar(
        select(QuoteCalculation)
        .options(defer(QuoteCalculation.inputs))
        .where(QuoteCalculation.charter_id == charter_id)
        .order_by(QuoteCalculation.calculated_at.desc(), QuoteCalculation.id)
        .limit(1)
    )
    if latest is not None:
        latest.accepted = True
        await session.flush()
        await announce_accepted(session, latest)


async def announce_accepted(session: AsyncSession, row: QuoteCalculation) -> None:
    """`pricing.quote_accepted`: the price a booked charter owes, for finance's plans and invoices."""
    await emit(session, outbox, QUOTE_ACCEPTED, accepted_payload(row))


async def announce_priced(session: AsyncSession, rows: Sequence[QuoteCalculation]) -> None:
    """`pricing.quote_priced`: open quotes' new prices, for the client's quote mails.

    One statement for the batch, so reading fifty quotes costs what reading two does.
    """
    if not rows:
        return
    await session.execute(
        insert(outbox).values(
            [
                {
                    "topic": QUOTE_PRICED,
                    "payload": json.loads(
                        json.dumps(
                            {**accepted_payload(row), "calculatedAt": row.calculated_at.isoformat()}
                        )
                    ),
                }
                for row in rows
            ]
        )
    )
    wake_relay_after_commit(session)


def accepted_payload(row: QuoteCalculation) -> dict[str, Any]:
    return {
        "charterId": str(row.charter_id),
        "clientId": str(row.client_id) if row.client_id else None,
        "quoteId": str(row.id),
        "subtotal": str(row.subtotal),
        "discount": str(row.discount),
        "tax": str(row.tax),
        "total": str(row.total),
        "lines": row.lines,
    }


def estimate(trip: TripFacts, prices: PriceList) -> PricedQuote:
    """The public calculator: the same engine, the same price list, nothing stored."""
    return price(replace(trip, tax_rate=prices.tax_rate), prices.rules, prices.modifiers)
