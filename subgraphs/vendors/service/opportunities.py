"""Bid opportunities: far-away charters a vendor could serve.

A charter is an opportunity for a vendor when it is quoted or booked, not a
template, its pickup is still ahead, the pickup is more than
`bid_opportunity_min_miles` from the operator's hub (the company's own
fleet covers nearer trips) and within the vendor's service radius of its
base, and the vendor has no live bid on it yet. Distances are
great-circle (haversine) miles, computed in SQL so that the filter and the
ordering happen in the database.

The same rule, without "not bid on yet", is what a vendor may bid on at
all (`is_offered`, security review finding 13): a vendor never bids on a
charter it was not offered, and learns nothing about one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, exists, select

from subgraphs.kit.geo import great_circle_miles, sql_great_circle_miles
from subgraphs.vendors.models import Bid, CharterFacts, Vendor
from subgraphs.vendors.states import LIVE_BIDS

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.kit.settings import Settings

#: Charters open to bids.
BIDDABLE_CHARTER = ("quote", "booked")


@dataclass(frozen=True)
class Hub:
    latitude: float
    longitude: float
    min_miles: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Hub:
        return cls(
            latitude=settings.operator_hub_latitude,
            longitude=settings.operator_hub_longitude,
            min_miles=settings.bid_opportunity_min_miles,
        )


@dataclass(frozen=True)
class Opportunity:
    charter: CharterFacts
    miles_from_hub: float
    miles_from_base: float


def has_service_area(vendor: Vendor) -> bool:
    return (
        vendor.base_latitude is not None
        and vendor.base_longitude is not None
        and bool(vendor.service_radius_miles)
    )


def offered_to(vendor: Vendor, hub: Hub, now: datetime) -> Select[Any] | None:
    """Charters offered to the vendor (bid on or not), as a statement; None if none can be.

    The offer is what a vendor may bid on (finding 13): `open_to_bid` adds
    "not bid on yet" for the opportunities list.
    """
    if not has_service_area(vendor):
        return None
    lat, lon = CharterFacts.pickup_latitude, CharterFacts.pickup_longitude
    from_hub = sql_great_circle_miles(hub.latitude, hub.longitude, lat, lon)
    from_base = sql_great_circle_miles(
        float(vendor.base_latitude), float(vendor.base_longitude), lat, lon
    )  # type: ignore[arg-type]
    return select(CharterFacts).where(
        CharterFacts.status.in_(BIDDABLE_CHARTER),
        CharterFacts.is_template.is_(False),
        CharterFacts.pickup_at > now,
        lat.is_not(None),
        lon.is_not(None),
        from_hub > hub.min_miles,
        from_base <= vendor.service_radius_miles,
    )


def open_to_bid(vendor: Vendor, hub: Hub, now: datetime) -> Select[Any] | None:
    """The vendor's opportunities: offered and without a live bid of its own."""
    offered = offered_to(vendor, hub, now)
    if offered is None:
        return None
    already_bid = exists().where(
        and_(
            Bid.charter_id == CharterFacts.charter_id,
            Bid.vendor_id == vendor.id,
            Bid.status.in_(LIVE_BIDS),
            Bid.valid_until > now,
        )
    )
    return offered.where(~already_bid)


async def is_offered(
    session: AsyncSession, vendor: Vendor, charter_id: uuid.UUID, hub: Hub, now: datetime
) -> bool:
    offered = offered_to(vendor, hub, now)
    if offered is None:
        return False
    found = await session.scalar(
        offered.with_only_columns(CharterFacts.charter_id).where(
            CharterFacts.charter_id == charter_id
        )
    )
    return found is not None


def opportunity(charter: CharterFacts, vendor: Vendor, hub: Hub) -> Opportunity:
    """Distances of an offered charter (same formula as the SQL filter)."""
    lat, lon = float(charter.pickup_latitude), float(charter.pickup_longitude)  # type: ignore[arg-type]
    return Opportunity(
        charter=charter,
        miles_from_hub=great_circle_miles((hub.latitude, hub.longitude), (lat, lon)),
        miles_from_base=great_circle_miles(
            (float(vendor.base_latitude), float(vendor.base_longitude)),  # type: ignore[arg-type]
            (lat, lon),
        ),
    )


async def for_vendor(
    session: AsyncSession, vendor: Vendor, hub: Hub, now: datetime
) -> list[Opportunity]:
    """All of the vendor's opportunities, soonest pickup first (the API pages them).

    A vendor without a base or a service radius has none.
    """
    stmt = open_to_bid(vendor, hub, now)
    if stmt is None:
        return []
    rows = await session.scalars(stmt.order_by(CharterFacts.pickup_at, CharterFacts.charter_id))
    return [opportunity(charter, vendor, hub) for charter in rows]
