"""GraphQL views of vendors' report figures (issue 16): thin, from `service` results.

The figures are computed once, in `service.bid_analytics`, `service.performance`
and `service.approvals`; the report templates and the role dashboards read
these same fields.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import strawberry
from strawberry.types import Info

from subgraphs.kit.errors import BadUserInputError, ForbiddenError, NotFoundError, ServiceError
from subgraphs.vendors import loaders as L
from subgraphs.vendors.service import bid_analytics, performance
from subgraphs.vendors.service.approvals import PendingApprovals as PendingApprovalsResult
from subgraphs.vendors.service.figures import Window
from subgraphs.vendors.types import Vendor, may_see_vendor, vendor_or_none


def window_of(start: datetime | None, end: datetime | None, *, default_days: int) -> Window:
    """The window asked for; a bad one is BAD_USER_INPUT naming the argument."""
    try:
        return Window.of(start, end, default_days=default_days, now=datetime.now(UTC))
    except ServiceError as exc:
        problem = exc.problems[0]
        raise BadUserInputError(problem.message, argument=problem.field) from None


@strawberry.type(
    description="A vendor's bids submitted in the window: won (ACCEPTED), lost (REJECTED: "
    "accepting a bid rejects its competitors), pending (submitted or under review, still "
    "valid). Withdrawn and expired bids count in `bids` only."
)
class VendorBidStatistics:
    bids: int
    won: int
    lost: int
    pending: int
    win_rate: Decimal | None = strawberry.field(
        description="won / (won + lost), 0 to 1, 4 places (half-up); null with nothing decided."
    )
    average_above_lowest_percent: Decimal | None = strawberry.field(
        description="Mean over the vendor's bids of how far above the lowest amount submitted "
        "on the same charter vehicle (or whole charter) it was, in percent, 2 places; 0 for "
        "the lowest bid; null with no bid."
    )
    _vendor_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def vendor(self, info: Info) -> Vendor:
        found = await vendor_or_none(info, self._vendor_id)
        if found is None:
            raise NotFoundError("Vendor", self._vendor_id)
        return found

    @classmethod
    def of(cls, row: bid_analytics.VendorBidStatistics) -> VendorBidStatistics:
        return cls(
            bids=row.bids,
            won=row.won,
            lost=row.lost,
            pending=row.pending,
            win_rate=row.win_rate,
            average_above_lowest_percent=row.average_above_lowest_percent,
            _vendor_id=row.vendor_id,
        )


@strawberry.type(description="Bids submitted in the window [from, to), operator-wide.")
class BidAnalytics:
    from_: datetime = strawberry.field(name="from", description="The window's start (UTC).")
    to: datetime = strawberry.field(description="The window's end, excluded (UTC).")
    charters: int = strawberry.field(description="Charters that got a bid.")
    bids: int
    bids_per_charter: Decimal | None = strawberry.field(
        description="bids / charters, 2 places (half-up); null with no charter."
    )
    vendors: list[VendorBidStatistics] = strawberry.field(
        description="One row per vendor that bid in the window, by vendor name."
    )

    @classmethod
    def of(cls, result: bid_analytics.BidAnalytics) -> BidAnalytics:
        return cls(
            from_=result.window.start,
            to=result.window.end,
            charters=result.charters,
            bids=result.bids,
            bids_per_charter=result.bids_per_charter,
            vendors=[VendorBidStatistics.of(r) for r in result.vendors],
        )


@strawberry.type(
    description="An approved vendor's record in the window. Recoveries: `Vendor.recoveryCount` "
    "(charters owns recovery cases)."
)
class VendorPerformanceRow:
    vendor: Vendor
    ratings: int = strawberry.field(description="Ratings given in the window.")
    average_overall: Decimal | None = strawberry.field(
        description="Of those ratings, 2 places (half-up, as `ratingSummary`); null with none."
    )
    average_on_time: Decimal | None = strawberry.field(
        description="Of those ratings, 2 places (half-up, as `ratingSummary`); null with none."
    )
    assignments: int = strawberry.field(description="Assignments offered in the window.")
    declines: int = strawberry.field(
        description="Of those, declined by the vendor or given back by it (recovery requested)."
    )
    completed: int = strawberry.field(description="Of those, driven to the end.")

    @classmethod
    def of(cls, row: performance.VendorPerformance) -> VendorPerformanceRow:
        return cls(
            vendor=Vendor.from_row(row.vendor),
            ratings=row.ratings,
            average_overall=row.average_overall,
            average_on_time=row.average_on_time,
            assignments=row.assignments,
            declines=row.declines,
            completed=row.completed,
        )


@strawberry.type(description="What waits for a manager's decision.")
class PendingApprovals:
    vendors: int = strawberry.field(description="Vendors awaiting approval (PENDING).")
    certifications: int = strawberry.field(
        description="Certifications uploaded, awaiting verification (PENDING_VERIFICATION)."
    )
    onboarding_submissions: int = strawberry.field(
        description="Onboarding submissions received, neither approved nor rejected."
    )

    @classmethod
    def of(cls, result: PendingApprovalsResult) -> PendingApprovals:
        return cls(
            vendors=result.vendors,
            certifications=result.certifications,
            onboarding_submissions=result.onboarding_submissions,
        )


async def bid_statistics_of(
    info: Info, vendor_id: uuid.UUID, start: datetime | None, end: datetime | None
) -> VendorBidStatistics:
    """`Vendor.bidStatistics`: one batch for every vendor of the request (per window)."""
    if not await may_see_vendor(info, vendor_id):
        raise ForbiddenError()
    window = window_of(start, end, default_days=bid_analytics.DEFAULT_DAYS)
    loader = info.context.loaders.get(L.BidStatisticsByVendorIdLoader)
    return VendorBidStatistics.of(await loader.load((vendor_id, window)))
