"""Vendors' report roots (issue 16): bid analytics, vendor performance, pending approvals.

Readers are `service.access`'s, stated once: `READ_VENDOR_FIGURES` for the
cross-vendor figures, `READ_PENDING_APPROVALS` for the approval queue.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from subgraphs.kit.cost import cost
from subgraphs.kit.permissions import allow
from subgraphs.vendors.service import approvals, bid_analytics, performance
from subgraphs.vendors.service.access import READ_PENDING_APPROVALS, READ_VENDOR_FIGURES
from subgraphs.vendors.types_reports import (
    BidAnalytics,
    PendingApprovals,
    VendorPerformanceRow,
    window_of,
)

From = Annotated[datetime | None, strawberry.argument(name="from")]


@strawberry.type
class ReportQueries:
    @strawberry.field(
        extensions=[allow(*READ_VENDOR_FIGURES)],
        # every bid of the window, grouped per charter and per vendor
        directives=[cost(50)],
        description="Bids submitted in [from, to) (default: the 90 days to now): bids per "
        "charter and every bidding vendor's win rate and distance from the lowest bid.",
    )
    async def bid_analytics(
        self, info: Info, from_: From = None, to: datetime | None = None
    ) -> BidAnalytics:
        window = window_of(from_, to, default_days=bid_analytics.DEFAULT_DAYS)
        async with info.context.sessions() as session:
            result = await bid_analytics.bid_analytics(session, window, datetime.now(UTC))
        return BidAnalytics.of(result)

    @strawberry.field(
        extensions=[allow(*READ_VENDOR_FIGURES)],
        description="Every approved vendor, by name, with its ratings and assignments in "
        "[from, to) (default: the 365 days to now). One row per vendor: the operator's "
        "affiliates, not its trips.",
    )
    async def vendor_performance(
        self, info: Info, from_: From = None, to: datetime | None = None
    ) -> list[VendorPerformanceRow]:
        window = window_of(from_, to, default_days=performance.DEFAULT_DAYS)
        async with info.context.sessions() as session:
            rows = await performance.vendor_performance(session, window)
        return [VendorPerformanceRow.of(r) for r in rows]

    @strawberry.field(
        extensions=[allow(*READ_PENDING_APPROVALS)],
        description="Vendors, certifications and onboarding submissions awaiting a decision.",
    )
    async def pending_approvals(self, info: Info) -> PendingApprovals:
        async with info.context.sessions() as session:
            return PendingApprovals.of(await approvals.pending_approvals(session))
