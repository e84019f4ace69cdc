"""Vendors' dataloaders: one statement per kind of row per request."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from subgraphs.kit.loaders import (
    ByIdLoader,
    ByParentIdLoader,
    SessionLoader,
    group_by_key,
)
from subgraphs.kit.pages_by_parent import PagesByParentLoader
from subgraphs.vendors import models
from subgraphs.vendors.models import HOLDING_ASSIGNMENT
from subgraphs.vendors.service import bid_analytics
from subgraphs.vendors.service import ratings as ratings_service
from subgraphs.vendors.service.figures import Window

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class VendorByIdLoader(ByIdLoader[models.Vendor]):
    model = models.Vendor


class CertificationsByVendorIdLoader(ByParentIdLoader[models.Certification]):
    model = models.Certification
    parent_column = "vendor_id"
    order_by = ("vendor_id", "cert_type", "expires_on", "id")


class ContactsByVendorIdLoader(ByParentIdLoader[models.VendorContact]):
    model = models.VendorContact
    parent_column = "vendor_id"
    order_by = ("vendor_id", "kind", "name")


class DocumentByIdLoader(ByIdLoader[models.Document]):
    model = models.Document


class HoldingAssignmentByCharterVehicleIdLoader(
    SessionLoader[uuid.UUID, models.VendorAssignment | None]
):
    """The assignment currently holding each charter vehicle, if any."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[models.VendorAssignment | None]:
        rows = await session.scalars(
            select(models.VendorAssignment).where(
                models.VendorAssignment.charter_vehicle_id.in_(keys),
                models.VendorAssignment.status.in_(HOLDING_ASSIGNMENT),
            )
        )
        by_vehicle = {r.charter_vehicle_id: r for r in rows}
        return [by_vehicle.get(k) for k in keys]


class HoldingAssignmentsByCharterIdLoader(SessionLoader[uuid.UUID, list[models.VendorAssignment]]):
    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[list[models.VendorAssignment]]:
        rows = await session.scalars(
            select(models.VendorAssignment)
            .where(
                models.VendorAssignment.charter_id.in_(keys),
                models.VendorAssignment.status.in_(HOLDING_ASSIGNMENT),
            )
            .order_by(models.VendorAssignment.charter_id, models.VendorAssignment.created_at)
        )
        return group_by_key(rows, keys, "charter_id")


class VendorIdOfUserLoader(SessionLoader[uuid.UUID, uuid.UUID | None]):
    """The vendor each vendor-role user belongs to (portal scope checks)."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[uuid.UUID | None]:
        rows = await session.execute(
            select(models.VendorUser.user_id, models.VendorUser.vendor_id).where(
                models.VendorUser.user_id.in_(keys)
            )
        )
        by_user = dict(rows.all())
        return [by_user.get(k) for k in keys]


class RatingSummaryByVendorIdLoader(SessionLoader[uuid.UUID, ratings_service.Summary]):
    """Count and exact averages of each vendor's ratings, one statement for all."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[ratings_service.Summary]:
        return await ratings_service.summaries(session, keys)


class RatingsPageByVendorIdLoader(PagesByParentLoader):
    """`Vendor.ratings` pages, newest first, for every vendor of a request at once."""

    model = models.Rating
    parent_column = "vendor_id"
    order_by = ("created_at", "id")
    descending = True


class AuditPageByVendorIdLoader(PagesByParentLoader):
    """`Vendor.auditLog` pages, newest first."""

    model = models.VendorAudit
    parent_column = "vendor_id"
    order_by = ("at", "id")
    descending = True


class DocumentsPageByVendorIdLoader(PagesByParentLoader):
    """`Vendor.documents` pages, newest first."""

    model = models.Document
    parent_column = "vendor_id"
    order_by = ("uploaded_at", "id")
    descending = True


class BidsByCharterIdLoader(ByParentIdLoader[models.Bid]):
    """Every bid on each charter (all vendors, all statuses): ranking needs them all."""

    model = models.Bid
    parent_column = "charter_id"
    order_by = ("charter_id", "created_at", "id")


class BidStatisticsByVendorIdLoader(
    SessionLoader[tuple[uuid.UUID, Window], bid_analytics.VendorBidStatistics]
):
    """`Vendor.bidStatistics` of every vendor of a request: one statement per window asked."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[tuple[uuid.UUID, Window]]
    ) -> list[bid_analytics.VendorBidStatistics]:
        now = datetime.now(UTC)
        found: dict[tuple[uuid.UUID, Window], bid_analytics.VendorBidStatistics] = {}
        for window in dict.fromkeys(w for _, w in keys):
            vendor_ids = [v for v, w in keys if w == window]
            for row in await bid_analytics.vendor_statistics(session, window, now, vendor_ids):
                found[(row.vendor_id, window)] = row
        return [found.get(k) or bid_analytics.VendorBidStatistics.none(k[0]) for k in keys]


class CharterVehicleFactsByCharterIdLoader(ByParentIdLoader[models.CharterVehicleFacts]):
    model = models.CharterVehicleFacts
    parent_column = "charter_id"
    order_by = ("charter_id", "charter_vehicle_id")
