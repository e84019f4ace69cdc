"""Trip distance without a map service: great-circle legs times a road factor.

No routing service is reachable here, so when the agent has not entered
the miles, the distance is the sum of the great-circle (haversine) legs
between consecutive stops, times a configurable road factor (1.2 by
default: roads are rarely straight), and the quote says it is estimated.
Coordinates are floats on the wire and in the formula; the result becomes
a Decimal rounded to a tenth of a mile before any money touches it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from subgraphs.kit.geo import great_circle_miles


def estimated_miles(points: Sequence[tuple[float, float]], road_factor: Decimal) -> Decimal:
    legs = sum(great_circle_miles(a, b) for a, b in itertools.pairwise(points))
    return (Decimal(str(round(legs, 6))) * road_factor).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )
