"""The pricing engine: trip facts and the operator's price list in, priced lines out.

A pure function (`calculate.price`): no database, no clock, no network, so
the same input always gives the same quote and the rules are tested
directly and by property tests. The subgraph loads the rules, modifiers,
amenities and promo code, builds `TripFacts` from what charters provides,
calls the engine, and stores what it returned.
"""

from subgraphs.pricing.engine.calculate import price
from subgraphs.pricing.engine.inputs import (
    AmenityLine,
    Line,
    Modifier,
    PricedQuote,
    Promo,
    Rule,
    TripFacts,
    VehicleFacts,
)

__all__ = [
    "AmenityLine",
    "Line",
    "Modifier",
    "PricedQuote",
    "Promo",
    "Rule",
    "TripFacts",
    "VehicleFacts",
    "price",
]
