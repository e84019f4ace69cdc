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
import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

EARTH_RADIUS_MILES = 3958.7613


def great_circle_miles(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))


def estimated_miles(points: Sequence[tuple[float, float]], road_factor: Decimal) -> Decimal:
    legs = sum(great_circle_miles(a, b) for a, b in itertools.pairwise(points))
    return (Decimal(str(round(legs, 6))) * road_factor).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )
