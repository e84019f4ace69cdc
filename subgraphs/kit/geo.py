"""Great-circle miles, in Python and in SQL: the one distance rule of every subgraph.

No routing service is reachable here, so pricing's trip estimate, charters'
route order, vendors' bid opportunities and service areas, and
notifications' bid alerts all measure the haversine distance on a sphere of
the Earth's mean radius. The SQL form lets a service-area test run over
every vendor in one statement and agrees with the Python form to float
precision.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Float, cast, func

#: Mean Earth radius in statute miles (IUGG mean radius 6371.0088 km).
EARTH_RADIUS_MILES = 3958.7613

Point = tuple[float, float]


def great_circle_miles(a: Point, b: Point) -> float:
    """Miles between two (latitude, longitude) points in degrees."""
    lat1, lon1, lat2, lon2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))


def sql_great_circle_miles(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    """`great_circle_miles` as a SQL expression; each argument a column or a number."""
    p1, p2 = func.radians(cast(lat1, Float)), func.radians(cast(lat2, Float))
    dp = p2 - p1
    dl = func.radians(cast(lon2, Float) - cast(lon1, Float))
    h = func.power(func.sin(dp / 2), 2) + func.cos(p1) * func.cos(p2) * func.power(
        func.sin(dl / 2), 2
    )
    return 2 * EARTH_RADIUS_MILES * func.asin(func.least(1.0, func.sqrt(h)))
