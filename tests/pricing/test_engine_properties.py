"""Properties of every quote the engine can make (hypothesis), and no float in its inputs."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from subgraphs.pricing.engine import (
    AmenityLine,
    Modifier,
    Promo,
    Rule,
    TripFacts,
    VehicleFacts,
    price,
)
from subgraphs.pricing.engine.inputs import RULE_TYPES, Conditions

TYPES = [uuid.UUID(int=n) for n in range(1, 4)]
money = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("5000.00"), places=2)
rate = st.decimals(min_value=Decimal("0.0000"), max_value=Decimal("20.0000"), places=4)
percent = st.decimals(min_value=Decimal("0.00"), max_value=Decimal("100.00"), places=2)


@st.composite
def rules(draw) -> tuple[Rule, ...]:
    out = []
    for n in range(draw(st.integers(0, 8))):
        rule_type = draw(st.sampled_from(RULE_TYPES))
        if rule_type in ("time_multiplier", "seasonal"):
            value = draw(
                st.decimals(min_value=Decimal("0.50"), max_value=Decimal("3.00"), places=3)
            )
        elif rule_type == "client_specific":
            value = draw(st.decimals(min_value=Decimal("-50"), max_value=Decimal("50"), places=2))
        else:
            value = draw(st.one_of(money, rate))
        days = draw(st.frozensets(st.integers(1, 7), max_size=3))
        out.append(
            Rule(
                uuid.UUID(int=1000 + n),
                f"Rule {n}",
                rule_type,
                value,
                scope=draw(st.sampled_from(["global", "vehicle_type"])),
                scope_value=str(draw(st.sampled_from(TYPES))),
                conditions=Conditions(days_of_week=days),
                priority=draw(st.integers(-3, 3)),
            )
        )
    return tuple(out)


@st.composite
def trips(draw) -> TripFacts:
    vehicles = tuple(
        VehicleFacts(t, f"Type {t.int}", draw(st.integers(1, 3)))
        for t in draw(st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True))
    )
    pickup = datetime(2026, 1, 1, 8) + timedelta(hours=draw(st.integers(0, 24 * 365)))
    return TripFacts(
        pickup_local=pickup,
        hours=draw(st.decimals(min_value=Decimal("0.0"), max_value=Decimal("72.0"), places=1)),
        miles=draw(st.decimals(min_value=Decimal("0.0"), max_value=Decimal("2000.0"), places=1)),
        trip_type=draw(st.sampled_from(["one_way", "round_trip", "local"])),
        passengers=draw(st.integers(1, 200)),
        vehicles=vehicles,
        quoted_local=pickup - timedelta(hours=draw(st.integers(0, 500))),
        days=draw(st.integers(1, 5)),
        second_driver=draw(st.booleans()),
        tax_rate=draw(st.decimals(min_value=Decimal("0"), max_value=Decimal("0.15"), places=4)),
    )


modifiers = st.lists(
    st.builds(
        Modifier,
        id=st.uuids(),
        name=st.just("Modifier"),
        kind=st.sampled_from(["day_of_week", "holiday", "asap"]),
        adjustment=st.sampled_from(["percentage", "fixed"]),
        value=percent,
        priority=st.integers(0, 5),
        within_hours=st.one_of(st.none(), st.integers(1, 72)),
        exclusive=st.booleans(),
    ),
    max_size=3,
).map(tuple)
amenities = st.lists(
    st.builds(
        AmenityLine,
        name=st.just("Amenity"),
        pricing=st.sampled_from(["flat_fee", "per_passenger", "per_hour", "per_day"]),
        unit_price=money,
        quantity=st.integers(1, 4),
    ),
    max_size=3,
).map(tuple)
promos = st.one_of(
    st.none(),
    st.builds(Promo, code=st.just("P"), discount_type=st.just("percentage"), value=percent),
    st.builds(Promo, code=st.just("F"), discount_type=st.just("fixed"), value=money),
)


@settings(max_examples=300, deadline=None)
@given(trips(), rules(), modifiers, amenities, promos)
def test_every_quote_adds_up_in_whole_cents_and_is_deterministic(trip, rs, ms, ams, promo):
    quote = price(trip, rs, ms, ams, promo)

    assert quote.total == sum((line.amount for line in quote.lines), Decimal("0.00"))
    assert quote.total == quote.subtotal - quote.discount + quote.tax
    for value in (quote.total, quote.subtotal, quote.discount, quote.tax):
        assert value == value.quantize(Decimal("0.01"))
        assert value.as_tuple().exponent == -2
    for line in quote.lines:
        assert line.amount.as_tuple().exponent == -2, line
    assert Decimal("0.00") <= quote.discount
    assert quote.discount <= max(quote.subtotal, Decimal("0.00"))
    assert price(trip, rs, ms, ams, promo) == quote
    assert price(trip, tuple(reversed(rs)), ms, ams, promo).total == quote.total


ENGINE = Path(__file__).parents[2] / "subgraphs" / "pricing" / "engine"


def test_no_float_anywhere_in_the_engine():
    for path in ENGINE.glob("*.py"):
        source = path.read_text()
        assert not re.search(r"\bfloat\b", source), f"{path.name} mentions float"
        assert not re.search(r"(?<![\w.\"'])\d+\.\d+(?![\w\"'])", _code_only(source)), (
            f"{path.name} has a float literal"
        )


def _code_only(source: str) -> str:
    """The source without strings and comments (docstrings quote worked examples)."""
    source = re.sub(r'"""[\s\S]*?"""', "", source)
    source = re.sub(r'"[^"\n]*"', "", source)
    return re.sub(r"#.*", "", source)
