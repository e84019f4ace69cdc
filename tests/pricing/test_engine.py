"""The engine alone: seed 002's worked examples, line by line, and each rule type's meaning."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import pytest

from subgraphs.pricing.engine import (
    AmenityLine,
    Modifier,
    Promo,
    Rule,
    TripFacts,
    VehicleFacts,
    price,
)
from subgraphs.pricing.engine.inputs import Conditions

COACH = uuid.uuid4()
MINI = uuid.uuid4()
WEEKEND = frozenset({6, 7})
WEDNESDAY = datetime(2026, 12, 2, 9, 0)
SATURDAY = datetime(2026, 12, 5, 9, 0)


def rule(rule_type: str, value: str, name: str | None = None, **more) -> Rule:
    return Rule(
        uuid.uuid4(), name or rule_type.replace("_", " ").title(), rule_type, Decimal(value), **more
    )


SEED = (
    rule("base_rate", "350.00", "Base rate"),
    rule("mileage_rate", "2.50", "Mileage"),
    rule("fuel_surcharge", "0.01", "Fuel"),
    rule("time_multiplier", "1.25", "Weekend", conditions=Conditions(days_of_week=WEEKEND)),
    rule("flat_fee", "50.00", "Weekend fee", conditions=Conditions(days_of_week=WEEKEND)),
)


def trip(pickup: datetime = WEDNESDAY, miles: str = "150", hours: str = "0", **more) -> TripFacts:
    fields = {
        "pickup_local": pickup,
        "hours": Decimal(hours),
        "miles": Decimal(miles),
        "trip_type": "one_way",
        "passengers": 40,
        "vehicles": (VehicleFacts(COACH, "Motorcoach"),),
        **more,
    }
    return TripFacts(**fields)


def amounts(quote) -> list[tuple[str, str]]:
    return [(line.kind, str(line.amount)) for line in quote.lines]


def test_seed_weekday_150_miles_is_726_50():
    quote = price(trip(WEDNESDAY, "150"), SEED)

    assert amounts(quote) == [
        ("base_rate", "350.00"),
        ("mileage_rate", "375.00"),
        ("fuel_surcharge", "1.50"),
    ]
    assert quote.total == Decimal("726.50")


def test_seed_weekend_200_miles_is_1114_50():
    quote = price(trip(SATURDAY, "200"), SEED)

    assert amounts(quote) == [
        ("base_rate", "350.00"),
        ("mileage_rate", "500.00"),
        ("time_multiplier", "212.50"),  # (350 + 500) x 0.25
        ("flat_fee", "50.00"),
        ("fuel_surcharge", "2.00"),
    ]
    assert quote.total == Decimal("1114.50")


def test_seed_mileage_at_2_75_for_100_miles_is_275():
    rules = (rule("mileage_rate", "2.75"),)

    assert price(trip(WEDNESDAY, "100"), rules).total == Decimal("275.00")


def test_a_vehicle_type_rate_wins_over_the_global_one_and_a_client_rate_over_both():
    client = str(uuid.uuid4())
    rules = (
        rule("base_rate", "350.00"),
        rule("base_rate", "500.00", scope="vehicle_type", scope_value=str(COACH)),
        rule("base_rate", "450.00", scope="client", scope_value=client, priority=-5),
    )
    two_types = (VehicleFacts(COACH, "Motorcoach"), VehicleFacts(MINI, "Minibus", count=2))

    other = price(trip(vehicles=two_types), rules)
    theirs = price(trip(vehicles=two_types, client_id=client), rules)

    assert amounts(other) == [("base_rate", "500.00"), ("base_rate", "700.00")]
    assert amounts(theirs) == [("base_rate", "450.00"), ("base_rate", "900.00")]


def test_priority_breaks_ties_within_a_scope_and_the_validity_window_is_inclusive():
    rules = (
        rule("base_rate", "300.00", priority=1),
        rule(
            "base_rate",
            "400.00",
            priority=5,
            valid_from=date(2026, 12, 2),
            valid_until=date(2026, 12, 2),
        ),
    )

    assert price(trip(WEDNESDAY), rules).total == Decimal("400.00")
    assert price(trip(datetime(2026, 12, 3, 9)), rules).total == Decimal("300.00")


def test_conditions_on_trip_type_and_date_ranges():
    season = Conditions(date_ranges=((date(2026, 12, 1), date(2026, 12, 31)),))
    rules = (
        rule("hourly_rate", "100.00", conditions=Conditions(trip_types=frozenset({"local"}))),
        rule("base_rate", "200.00"),
        rule("seasonal", "1.10", "December", conditions=season),
    )

    local = price(trip(hours="3", trip_type="local", miles="0"), rules)
    one_way = price(trip(hours="3", miles="0"), rules)

    assert amounts(local) == [
        ("base_rate", "200.00"),
        ("hourly_rate", "300.00"),
        ("seasonal", "50.00"),
    ]
    assert amounts(one_way) == [("base_rate", "200.00"), ("seasonal", "20.00")]


def test_minimum_charge_tops_up_and_client_adjustment_comes_first():
    client = str(uuid.uuid4())
    rules = (
        rule("base_rate", "100.00"),
        rule("client_specific", "-10", "Contract discount", scope="client", scope_value=client),
        rule("minimum_charge", "250.00"),
    )

    quote = price(trip(miles="0", client_id=client), rules)

    assert amounts(quote) == [
        ("base_rate", "100.00"),
        ("client_specific", "-10.00"),
        ("minimum_charge", "160.00"),
    ]
    assert quote.total == Decimal("250.00")


def test_modifiers_add_on_the_rules_subtotal_and_an_exclusive_one_stops_the_rest():
    weekend = Modifier(
        uuid.uuid4(),
        "Weekend",
        "day_of_week",
        "percentage",
        Decimal(10),
        Conditions(days_of_week=WEEKEND),
        priority=1,
    )
    holiday = Modifier(uuid.uuid4(), "Holiday", "holiday", "fixed", Decimal("75.00"), priority=5)
    exclusive = Modifier(
        uuid.uuid4(), "Event", "event", "percentage", Decimal(20), priority=9, exclusive=True
    )

    stacked = price(trip(SATURDAY, "200"), SEED, (weekend, holiday))
    alone = price(trip(SATURDAY, "200"), SEED, (weekend, holiday, exclusive))

    assert [(x.label, str(x.amount)) for x in stacked.lines if x.kind == "modifier"] == [
        ("Holiday", "75.00"),
        ("Weekend (10%)", "111.45"),  # 10 % of 1,114.50, rounded half-up
    ]
    assert stacked.total == Decimal("1300.95")
    assert [x.label for x in alone.lines if x.kind == "modifier"] == ["Event (20%)"]


def test_asap_modifier_applies_within_its_hours_of_quoting():
    asap = Modifier(uuid.uuid4(), "ASAP", "asap", "percentage", Decimal(15), within_hours=48)

    soon = price(trip(quoted_local=datetime(2026, 12, 1, 9)), SEED, (asap,))
    later = price(trip(quoted_local=datetime(2026, 11, 20, 9)), SEED, (asap,))

    assert soon.total == Decimal("726.50") + Decimal("108.98")  # 15 % of 726.50 = 108.975
    assert later.total == Decimal("726.50")


def test_amenities_by_their_pricing():
    items = (
        AmenityLine("Wi-Fi", "flat_fee", Decimal("25.00")),
        AmenityLine("Water", "per_passenger", Decimal("1.25"), quantity=2),
        AmenityLine("Host", "per_hour", Decimal("30.00")),
        AmenityLine("Cooler", "per_day", Decimal("15.00")),
    )

    quote = price(trip(miles="0", hours="5", days=2), (), (), items)

    assert amounts(quote) == [
        ("amenity", "25.00"),
        ("amenity", "100.00"),
        ("amenity", "150.00"),
        ("amenity", "30.00"),
    ]


def test_promo_codes_discount_the_subtotal_or_say_why_not():
    ten = Promo("TEN", "percentage", Decimal(10))
    big = Promo("BIG", "fixed", Decimal("5000.00"))
    coach_only = Promo("COACH", "fixed", Decimal("20.00"), vehicle_types=frozenset({MINI}))
    minimum = Promo("MIN", "fixed", Decimal("20.00"), minimum_amount=Decimal("1000.00"))
    expired = Promo("OLD", "fixed", Decimal("20.00"), valid_until=date(2026, 11, 1))

    assert price(trip(), SEED, promo=ten).total == Decimal("653.85")  # 726.50 - 72.65
    assert price(trip(), SEED, promo=big).total == Decimal("0.00")
    for code, why in (
        (coach_only, "vehicles"),
        (minimum, "at least 1000.00"),
        (expired, "expired"),
    ):
        quote = price(trip(), SEED, promo=code)
        assert quote.total == Decimal("726.50")
        assert why in quote.promo_refusal


def test_tax_is_on_the_discounted_subtotal():
    quote = price(
        trip(tax_rate=Decimal("0.0925")), SEED, promo=Promo("TEN", "percentage", Decimal(10))
    )

    assert (quote.subtotal, quote.discount, quote.tax, quote.total) == (
        Decimal("726.50"),
        Decimal("72.65"),
        Decimal("60.48"),  # 653.85 x 9.25 % = 60.481125
        Decimal("714.33"),
    )


def test_the_second_driver_is_priced_only_when_needed():
    rules = (*SEED, rule("second_driver_rate", "35.00", "Second driver"))

    alone = price(trip(hours="12"), rules)
    paired = price(trip(hours="12", second_driver=True), rules)

    assert alone.total == Decimal("726.50")
    assert paired.total - alone.total == Decimal("420.00")


@pytest.mark.parametrize("rule_type", ["flat_fee", "vehicle_specific"])
def test_fees_are_not_exclusive(rule_type):
    rules = (rule(rule_type, "10.00", "One"), rule(rule_type, "15.00", "Two"))

    assert price(trip(miles="0"), rules).total == Decimal("25.00")
