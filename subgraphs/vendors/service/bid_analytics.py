"""Bid analytics (issue 16 §2 and §4): bids per charter, win rate, distance from the lowest.

A bid counts in a window by its submission time (`submitted_at`): drafts
were never offered and never count. Per vendor:

- won: ACCEPTED;
- lost: REJECTED. Accepting a bid rejects the competing live bids in the
  same transaction (`bids.accept`, "Another bid was accepted."), so a bid on
  a charter another vendor won is recorded as REJECTED already;
- pending: still live (submitted or under review) and not past its validity;
- withdrawn and expired bids count in `bids` but in none of the three;
- win rate: won / (won + lost), null with no decided bid;
- above lowest: the mean over the vendor's bids of (amount - lowest) /
  lowest in percent, where "lowest" is the lowest amount any vendor
  submitted on the same target (one charter vehicle, or the whole charter,
  the same target `bids` ranks within) before the window's end: a
  competitor's bid from before the window still set the price to beat, and
  one placed after it does not change a closed window's figures. 0 for the
  lowest.

Everything is aggregated in SQL: two statements whatever the number of bids.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, Numeric, and_, distinct, func, select

from subgraphs.kit.figures import ratio
from subgraphs.vendors.models import Bid, Vendor
from subgraphs.vendors.service.figures import Window, two_places
from subgraphs.vendors.states import LIVE_BIDS

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

#: Default window of the figures: the 90 days to now.
DEFAULT_DAYS = 90


@dataclass(frozen=True)
class VendorBidStatistics:
    vendor_id: uuid.UUID
    bids: int
    won: int
    lost: int
    pending: int
    win_rate: Decimal | None
    average_above_lowest_percent: Decimal | None

    @classmethod
    def none(cls, vendor_id: uuid.UUID) -> VendorBidStatistics:
        return cls(vendor_id, 0, 0, 0, 0, None, None)


@dataclass(frozen=True)
class BidAnalytics:
    window: Window
    charters: int
    bids: int
    bids_per_charter: Decimal | None
    vendors: list[VendorBidStatistics]


def _in_window(window: Window) -> ColumnElement[bool]:
    return and_(Bid.submitted_at >= window.start, Bid.submitted_at < window.end)


async def vendor_statistics(
    session: AsyncSession,
    window: Window,
    now: datetime,
    vendor_ids: Sequence[uuid.UUID] | None = None,
) -> list[VendorBidStatistics]:
    """One row per vendor with a bid submitted in the window, by vendor name.

    `vendor_ids` narrows it to those vendors (`Vendor.bidStatistics`); one statement.
    """
    in_window = _in_window(window)
    # The lowest submitted amount per target, over the charters bid on in the window only.
    bid_on = select(Bid.charter_id).where(in_window)
    if vendor_ids is not None:
        bid_on = bid_on.where(Bid.vendor_id.in_(vendor_ids))
    ranked = (
        select(
            Bid.vendor_id,
            Bid.status,
            Bid.valid_until,
            Bid.submitted_at,
            Bid.amount,
            func.min(Bid.amount)
            .over(partition_by=(Bid.charter_id, Bid.charter_vehicle_id))
            .label("lowest"),
        )
        .where(Bid.submitted_at < window.end, Bid.charter_id.in_(bid_on))
        .subquery()
    )
    live = and_(ranked.c.status.in_(LIVE_BIDS), ranked.c.valid_until > now)
    above = (ranked.c.amount - ranked.c.lowest).cast(Numeric()) * 100 / ranked.c.lowest
    stmt = (
        select(
            Vendor.id,
            func.count().label("bids"),
            func.count().filter(ranked.c.status == "accepted").label("won"),
            func.count().filter(ranked.c.status == "rejected").label("lost"),
            func.count().filter(live).label("pending"),
            func.avg(above).label("above"),
        )
        .join(ranked, ranked.c.vendor_id == Vendor.id)
        .where(ranked.c.submitted_at >= window.start, ranked.c.submitted_at < window.end)
        .group_by(Vendor.id)
        .order_by(Vendor.business_name, Vendor.id)
    )
    if vendor_ids is not None:
        stmt = stmt.where(Vendor.id.in_(vendor_ids))
    return [
        VendorBidStatistics(
            vendor_id=r.id,
            bids=r.bids,
            won=r.won,
            lost=r.lost,
            pending=r.pending,
            win_rate=ratio(r.won, r.won + r.lost),
            average_above_lowest_percent=two_places(r.above),
        )
        for r in await session.execute(stmt)
    ]


async def bid_analytics(session: AsyncSession, window: Window, now: datetime) -> BidAnalytics:
    """The operator-wide figures and every bidding vendor's row: two statements."""
    totals = (
        await session.execute(
            select(
                func.count(distinct(Bid.charter_id)).label("charters"),
                func.count().label("bids"),
            ).where(_in_window(window))
        )
    ).one()
    return BidAnalytics(
        window=window,
        charters=totals.charters,
        bids=totals.bids,
        bids_per_charter=(
            two_places(Decimal(totals.bids) / Decimal(totals.charters)) if totals.charters else None
        ),
        vendors=await vendor_statistics(session, window, now),
    )
