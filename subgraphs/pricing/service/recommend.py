"""The cheapest set of vehicle types that seats a party, at the price list's rates.

Each vehicle type's price for the trip is what the engine charges for one
vehicle of that type (its base, mileage, hourly and per-vehicle lines
under the rules in force); the cheapest cover of the passengers is then a
small dynamic programme over seats (unbounded knapsack, minimising price):
cost[s] = min over types of cost[s - capacity] + price. Ties prefer fewer
vehicles, then larger ones, so the answer is stable.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from subgraphs.pricing.engine import TripFacts, VehicleFacts, price
from subgraphs.pricing.models import VehicleTypeFact
from subgraphs.pricing.service.quotes import PriceList

MAX_PASSENGERS = 5000


@dataclass(frozen=True)
class Pick:
    vehicle_type: VehicleTypeFact
    count: int
    unit_price: Decimal


def unit_prices(
    trip: TripFacts, types: list[VehicleTypeFact], prices: PriceList
) -> dict[VehicleTypeFact, Decimal]:
    out = {}
    for t in types:
        one = replace(trip, vehicles=(VehicleFacts(t.id, t.name),), tax_rate=Decimal(0))
        out[t] = price(one, prices.rules).subtotal
    return out


def cheapest(passengers: int, unit: dict[VehicleTypeFact, Decimal]) -> list[Pick]:
    types = [t for t in unit if t.capacity > 0]
    if not types or passengers < 1:
        return []
    # best[s]: (cost, vehicles, -seats, choice) of seating at least s people.
    best: list[tuple[Decimal, int, int, VehicleTypeFact | None]] = [(Decimal(0), 0, 0, None)]
    for seats in range(1, passengers + 1):
        options = []
        for t in types:
            rest = best[max(seats - t.capacity, 0)]
            options.append((rest[0] + unit[t], rest[1] + 1, rest[2] - t.capacity, t))
        best.append(min(options, key=lambda o: (o[0], o[1], o[2], str(o[3].id if o[3] else ""))))
    counts: dict[VehicleTypeFact, int] = {}
    seats = passengers
    while seats > 0:
        choice = best[seats][3]
        assert choice is not None  # noqa: S101 - every seats > 0 has a choice
        counts[choice] = counts.get(choice, 0) + 1
        seats = max(seats - choice.capacity, 0)
    return [Pick(t, n, unit[t]) for t, n in sorted(counts.items(), key=lambda kv: -kv[0].capacity)]
