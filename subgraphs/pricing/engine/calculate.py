"""`price`: the whole calculation, in the order the lines appear on a quote.

1. Per vehicle type: base rate, mileage, hourly (the time-and-distance charges).
2. Multipliers (time_multiplier, seasonal): each winner adds (factor - 1) x
   the time-and-distance charges; two factors add, they do not compound.
3. Vehicle-specific amounts, flat fees, fuel surcharge (never multiplied),
   the second driver's hours when hours of service need one.
4. The client's percentage adjustment, then the minimum charge's top-up.
5. Modifiers on that rules subtotal (see `Modifier` for stacking).
6. Amenities (unit price x quantity x passengers, hours or days).
7. The promo code's discount on the subtotal, then tax on what remains.

Every line is rounded half-up to cents once, when it is made; percentages
are taken of sums of already-rounded lines; the total is the sum of the
lines, so a quote never shows a fraction of a cent or a total its lines do
not add up to.

Seed 002's examples: weekday, 150 miles: 350.00 + 150 x 2.50 + 150 x 0.01 =
726.50; weekend, 200 miles: 350.00 + 500.00 + 0.25 x 850.00 + 50.00 + 2.00
= 1,114.50.
"""

from __future__ import annotations

from decimal import Decimal

from subgraphs.pricing.engine.inputs import (
    MULTIPLIERS,
    ZERO,
    AmenityLine,
    Line,
    Modifier,
    PricedQuote,
    Promo,
    Rule,
    TripFacts,
    VehicleFacts,
    cents,
)
from subgraphs.pricing.engine.selection import applicable, modifiers_in_force, winner

HUNDRED = Decimal(100)


def _qty(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _vehicle_lines(rules: tuple[Rule, ...], trip: TripFacts, v: VehicleFacts) -> list[Line]:
    here = applicable(rules, trip, frozenset({v.vehicle_type_id}))
    count = f"{v.count} x " if v.count > 1 else ""
    lines = []
    base = winner(here, "base_rate")
    if base is not None:
        lines.append(
            Line(f"Base rate ({count}{v.name})", "base_rate", cents(base.value * v.count), base.id)
        )
    mileage = winner(here, "mileage_rate")
    if mileage is not None and trip.miles > 0:
        lines.append(
            Line(
                f"Mileage ({count}{v.name}): {_qty(trip.miles)} mi x {_qty(mileage.value)}",
                "mileage_rate",
                cents(trip.miles * mileage.value * v.count),
                mileage.id,
            )
        )
    hourly = winner(here, "hourly_rate")
    if hourly is not None and trip.hours > 0:
        lines.append(
            Line(
                f"Hours ({count}{v.name}): {_qty(trip.hours)} h x {_qty(hourly.value)}",
                "hourly_rate",
                cents(trip.hours * hourly.value * v.count),
                hourly.id,
            )
        )
    return lines


def _fuel_lines(rules: tuple[Rule, ...], trip: TripFacts) -> list[Line]:
    lines = []
    for v in trip.vehicles:
        fuel = winner(applicable(rules, trip, frozenset({v.vehicle_type_id})), "fuel_surcharge")
        if fuel is not None and trip.miles > 0:
            count = f"{v.count} x " if v.count > 1 else ""
            lines.append(
                Line(
                    f"Fuel surcharge ({count}{v.name}): {_qty(trip.miles)} mi x {_qty(fuel.value)}",
                    "fuel_surcharge",
                    cents(trip.miles * fuel.value * v.count),
                    fuel.id,
                )
            )
    return lines


def _rule_lines(rules: tuple[Rule, ...], trip: TripFacts) -> list[Line]:
    lines: list[Line] = []
    for v in trip.vehicles:
        lines += _vehicle_lines(rules, trip, v)
    time_and_distance = sum((line.amount for line in lines), ZERO)
    all_types = frozenset(v.vehicle_type_id for v in trip.vehicles)
    trip_rules = applicable(rules, trip, all_types)
    for rule_type in sorted(MULTIPLIERS):
        factor = winner(trip_rules, rule_type)
        if factor is not None and factor.value != 1:
            lines.append(
                Line(
                    f"{factor.name} (x {_qty(factor.value)})",
                    rule_type,
                    cents(time_and_distance * (factor.value - 1)),
                    factor.id,
                )
            )
    for v in trip.vehicles:
        for rule in applicable(rules, trip, frozenset({v.vehicle_type_id})):
            if rule.rule_type == "vehicle_specific":
                lines.append(
                    Line(
                        f"{rule.name} ({v.name})",
                        "vehicle_specific",
                        cents(rule.value * v.count),
                        rule.id,
                    )
                )
    for rule in sorted(trip_rules, key=lambda r: (-r.priority, r.id.int)):
        if rule.rule_type == "flat_fee":
            lines.append(Line(rule.name, "flat_fee", cents(rule.value), rule.id))
    lines += _fuel_lines(rules, trip)
    driver = winner(trip_rules, "second_driver_rate")
    if trip.second_driver and driver is not None:
        lines.append(
            Line(
                f"Second driver: {_qty(trip.hours)} h x {_qty(driver.value)}",
                "second_driver_rate",
                cents(trip.hours * driver.value),
                driver.id,
            )
        )
    client = winner(trip_rules, "client_specific")
    if client is not None:
        so_far = sum((line.amount for line in lines), ZERO)
        lines.append(
            Line(client.name, "client_specific", cents(so_far * client.value / HUNDRED), client.id)
        )
    minimum = winner(trip_rules, "minimum_charge")
    so_far = sum((line.amount for line in lines), ZERO)
    if minimum is not None and so_far < minimum.value:
        lines.append(
            Line(
                f"Minimum charge {_qty(minimum.value)}",
                "minimum_charge",
                cents(minimum.value - so_far),
                minimum.id,
            )
        )
    return lines


def _modifier_lines(modifiers: tuple[Modifier, ...], trip: TripFacts, base: Decimal) -> list[Line]:
    lines = []
    for m in modifiers_in_force(modifiers, trip):
        if m.adjustment == "percentage":
            amount = cents(base * m.value / HUNDRED)
            label = f"{m.name} ({_qty(m.value)}%)"
        else:
            amount = cents(m.value)
            label = m.name
        lines.append(Line(label, "modifier", amount, m.id))
    return lines


def amenity_amount(a: AmenityLine, trip: TripFacts) -> Decimal:
    units = {
        "flat_fee": 1,
        "per_passenger": trip.passengers,
        "per_hour": trip.hours,
        "per_day": max(trip.days, 1),
    }[a.pricing]
    return cents(a.unit_price * a.quantity * units)


def promo_refusal(promo: Promo, trip: TripFacts, subtotal: Decimal) -> str | None:
    """Why `promo` does not apply to this quote, or None when it does."""
    on = (trip.quoted_local or trip.pickup_local).date()
    if promo.valid_from is not None and on < promo.valid_from:
        return f"Code {promo.code} is valid from {promo.valid_from.isoformat()}."
    if promo.valid_until is not None and on > promo.valid_until:
        return f"Code {promo.code} expired on {promo.valid_until.isoformat()}."
    if promo.trip_types and trip.trip_type not in promo.trip_types:
        return f"Code {promo.code} does not apply to this trip type."
    if promo.vehicle_types and not promo.vehicle_types & {v.vehicle_type_id for v in trip.vehicles}:
        return f"Code {promo.code} does not apply to these vehicles."
    if promo.minimum_amount is not None and subtotal < promo.minimum_amount:
        return f"Code {promo.code} needs a quote of at least {promo.minimum_amount}."
    return None


def price(
    trip: TripFacts,
    rules: tuple[Rule, ...] = (),
    modifiers: tuple[Modifier, ...] = (),
    amenities: tuple[AmenityLine, ...] = (),
    promo: Promo | None = None,
) -> PricedQuote:
    lines = _rule_lines(rules, trip)
    rules_subtotal = sum((line.amount for line in lines), ZERO)
    lines += _modifier_lines(modifiers, trip, rules_subtotal)
    lines += [
        Line(
            f"{a.name}" + (f" x {a.quantity}" if a.quantity > 1 else ""),
            "amenity",
            amenity_amount(a, trip),
        )
        for a in amenities
    ]
    subtotal = sum((line.amount for line in lines), ZERO)
    discount = ZERO
    refusal = None
    if promo is not None:
        refusal = promo_refusal(promo, trip, subtotal)
        if refusal is None and subtotal <= 0:
            refusal = f"Code {promo.code} has nothing to discount."
        elif refusal is None:
            if promo.discount_type == "percentage":
                discount = cents(subtotal * promo.value / HUNDRED)
            else:
                discount = min(cents(promo.value), subtotal)
            lines.append(Line(f"Promo code {promo.code}", "promo", -discount))
    tax = cents((subtotal - discount) * trip.tax_rate)
    if tax:
        lines.append(Line(f"Tax ({_qty(trip.tax_rate * HUNDRED)}%)", "tax", tax))
    total = sum((line.amount for line in lines), ZERO)
    return PricedQuote(tuple(lines), subtotal, discount, tax, total, refusal)
