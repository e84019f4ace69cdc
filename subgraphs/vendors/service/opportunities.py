"""Bid opportunities: far-away charters a vendor could serve.

A charter is an opportunity for a vendor when it is quoted or booked, not a
template, its pickup is still ahead, the pickup is more than
`bid_opportunity_min_miles` from the operator's hub (the company's own
fleet covers nearer trips) and within the vendor's service radius of its
base, and the vendor has no submitted bid on it yet. Distances are
great-circle (haversine) miles, computed in SQL so that the filter and the
ordering happen in the database.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Float, and_, cast, exists, func, select

from subgraphs.vendors.models import Bid, CharterFacts, Vendor
from subgraphs.vendors.service.bids import BIDDABLE_CHARTER

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

#: Mean Earth radius in statute miles (IUGG mean radius 6371.0088 km).
EARTH_RADIUS_MILES = 3958.7613


def haversine_miles(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in miles; the same formula as `_sql_haversine`."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(a)))


def _sql_haversine(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    p1, p2 = func.radians(cast(lat1, Float)), func.radians(cast(lat2, Float))
    dp = p2 - p1
    dl = func.radians(cast(lon2, Float) - cast(lon1, Float))
    a = func.power(func.sin(dp / 2), 2) + func.cos(p1) * func.cos(p2) * func.power(
        func.sin(dl / 2), 2
    )
    return 2 * EARTH_RADIUS_MILES * func.asin(func.least(1.0, func.sqrt(a)))


@dataclass(frozen=True)
class Hub:
    latitude: float
    longitude: float
    min_miles: float


@dataclass(frozen=True)
class Opportunity:
    charter: CharterFacts
    miles_from_hub: float
    miles_from_base: float


async def for_vendor(
    session: AsyncSession, vendor: Vendor, hub: Hub, now: datetime
) -> list[Opportunity]:
    """The vendor's opportunities, soonest pickup first.

    A vendor without a base or a service radius has none.
    """
    if (
        vendor.base_latitude is None
        or vendor.base_longitude is None
        or not vendor.service_radius_miles
    ):
        return []
    lat, lon = CharterFacts.pickup_latitude, CharterFacts.pickup_longitude
    from_hub = _sql_haversine(hub.latitude, hub.longitude, lat, lon)
    from_base = _sql_haversine(float(vendor.base_latitude), float(vendor.base_longitude), lat, lon)
    already_bid = exists().where(
        and_(
            Bid.charter_id == CharterFacts.charter_id,
            Bid.vendor_id == vendor.id,
            Bid.status == "submitted",
            Bid.valid_until > now,
        )
    )
    stmt = (
        select(CharterFacts, from_hub.label("from_hub"), from_base.label("from_base"))
        .where(
            CharterFacts.status.in_(BIDDABLE_CHARTER),
            CharterFacts.is_template.is_(False),
            CharterFacts.pickup_at > now,
            lat.is_not(None),
            lon.is_not(None),
            from_hub > hub.min_miles,
            from_base <= vendor.service_radius_miles,
            ~already_bid,
        )
        .order_by(CharterFacts.pickup_at, CharterFacts.charter_id)
    )
    return [
        Opportunity(charter=charter, miles_from_hub=float(hub_miles), miles_from_base=float(base))
        for charter, hub_miles, base in (await session.execute(stmt)).all()
    ]
