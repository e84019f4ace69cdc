"""Vendor performance (issue 16 §2, "vendor performance"): ratings, on-time, declines.

Every approved vendor (one a manager once approved: `approved_at` is set;
a vendor suspended since still has a record worth reading) gets a row,
ordered by name, with zeros when nothing happened in the window:

- ratings, and the averages of `overall` and `on_time` of the ratings given
  in the window, rounded as `ratingSummary` rounds them (half-up, 2 places);
- assignments offered in the window (`created_at`), of which `declines`
  were declined by the vendor or given back by it (a recovery request: the
  vendor withdrew from a confirmed trip; the audit log keeps that even after
  the assignment was cancelled or re-confirmed), and `completed` were
  driven to the end.

Recoveries are charters' figure (`Vendor.recoveryCount`, contributed by the
charters subgraph): it owns recovery cases. One statement for everything.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Numeric, func, or_, select

from subgraphs.vendors.models import Rating, Vendor, VendorAssignment, VendorAudit
from subgraphs.vendors.service.figures import Window, two_places

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

#: Default window: the 365 days to now.
DEFAULT_DAYS = 365
#: The audit action recorded when a vendor asks to be relieved of a confirmed trip.
RECOVERY_REQUESTED = "status:recovery_requested"


@dataclass(frozen=True)
class VendorPerformance:
    vendor: Any  # the vendor's row (models.Vendor), read in the same statement
    ratings: int
    average_overall: Decimal | None
    average_on_time: Decimal | None
    assignments: int
    declines: int
    completed: int

    @property
    def vendor_id(self) -> uuid.UUID:
        return self.vendor.id  # type: ignore[no-any-return]


async def vendor_performance(session: AsyncSession, window: Window) -> list[VendorPerformance]:
    """One row per approved vendor, by name; one statement."""
    rated = (
        select(
            Rating.vendor_id,
            func.count().label("ratings"),
            func.avg(Rating.overall.cast(Numeric())).label("overall"),
            func.avg(Rating.on_time.cast(Numeric())).label("on_time"),
        )
        .where(Rating.created_at >= window.start, Rating.created_at < window.end)
        .group_by(Rating.vendor_id)
        .subquery()
    )
    gave_back = select(VendorAudit.entity_id).where(
        VendorAudit.entity == "assignment", VendorAudit.action == RECOVERY_REQUESTED
    )
    declined = or_(
        VendorAssignment.status.in_(("declined", "recovery_requested")),
        VendorAssignment.id.in_(gave_back),
    )
    assigned = (
        select(
            VendorAssignment.vendor_id,
            func.count().label("assignments"),
            func.count().filter(declined).label("declines"),
            func.count().filter(VendorAssignment.status == "completed").label("completed"),
        )
        .where(
            VendorAssignment.created_at >= window.start,
            VendorAssignment.created_at < window.end,
        )
        .group_by(VendorAssignment.vendor_id)
        .subquery()
    )
    stmt = (
        select(
            Vendor,
            func.coalesce(rated.c.ratings, 0).label("ratings"),
            rated.c.overall,
            rated.c.on_time,
            func.coalesce(assigned.c.assignments, 0).label("assignments"),
            func.coalesce(assigned.c.declines, 0).label("declines"),
            func.coalesce(assigned.c.completed, 0).label("completed"),
        )
        .outerjoin(rated, rated.c.vendor_id == Vendor.id)
        .outerjoin(assigned, assigned.c.vendor_id == Vendor.id)
        .where(Vendor.approved_at.is_not(None))
        .order_by(Vendor.business_name, Vendor.id)
    )
    return [
        VendorPerformance(
            vendor=r.Vendor,
            ratings=r.ratings,
            average_overall=two_places(r.overall),
            average_on_time=two_places(r.on_time),
            assignments=r.assignments,
            declines=r.declines,
            completed=r.completed,
        )
        for r in await session.execute(stmt)
    ]
