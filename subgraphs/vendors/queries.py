from __future__ import annotations

from datetime import UTC, datetime, timedelta

import strawberry
from sqlalchemy import func, select
from strawberry.types import Info

from subgraphs.kit.auth.roles import Role
from subgraphs.kit.errors import BadUserInputError, NotFoundError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.pagination import Connection, KeysetOrder, paginate
from subgraphs.kit.permissions import allow
from subgraphs.vendors import loaders as L
from subgraphs.vendors import models
from subgraphs.vendors.enums import BidStatus, OnboardingStatus, VendorStatus
from subgraphs.vendors.service import bids as bid_rules
from subgraphs.vendors.service import opportunities
from subgraphs.vendors.service.access import MANAGE, STAFF, vendor_of
from subgraphs.vendors.types import (
    Bid,
    BidOpportunity,
    Certification,
    Charter,
    OnboardingSubmission,
    Vendor,
    today,
    vendor_or_none,
)


@strawberry.type
class ExpiringCertification:
    certification: Certification
    vendor: Vendor | None


@strawberry.type
class Query:
    @strawberry.field(extensions=[allow(*STAFF, Role.VENDOR)])
    async def vendor(self, info: Info, id: strawberry.ID) -> Vendor:
        vendor = await vendor_or_none(info, parse_uuid(id))
        if vendor is None:
            raise NotFoundError("Vendor", id)
        return vendor

    @strawberry.field(extensions=[allow(Role.VENDOR)], description="The vendor you work for.")
    async def my_vendor(self, info: Info) -> Vendor:
        viewer = await info.context.get_viewer()
        vendor_id = await info.context.loaders.get(L.VendorIdOfUserLoader).load(viewer.user_id)
        vendor = await vendor_or_none(info, vendor_id)
        if vendor is None:
            raise NotFoundError("Vendor")
        return vendor

    @strawberry.field(extensions=[allow(*STAFF)], description="Vendors by name.")
    async def vendors(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        status: list[VendorStatus] | None = None,
        search: str | None = None,
    ) -> Connection[Vendor]:
        stmt = select(models.Vendor)
        if status:
            stmt = stmt.where(models.Vendor.status.in_([s.value for s in status]))
        if search:
            stmt = stmt.where(
                func.lower(models.Vendor.business_name).contains(search.strip().lower())
            )
        order = KeysetOrder((models.Vendor.business_name, models.Vendor.id))
        async with info.context.sessions() as session:
            return await paginate(
                session, stmt, order, first=first, after=after, to_node=Vendor.from_row
            )

    @strawberry.field(
        extensions=[allow(*MANAGE)],
        description="Active certifications expiring within `withinDays` days, soonest first.",
    )
    async def expiring_certifications(
        self, info: Info, within_days: int = 30
    ) -> list[ExpiringCertification]:
        if not 0 <= within_days <= 366:
            raise BadUserInputError("`withinDays` must be between 0 and 366.")
        horizon = today() + timedelta(days=within_days)
        async with info.context.sessions() as session:
            rows = list(
                await session.scalars(
                    select(models.Certification)
                    .where(
                        models.Certification.status == "active",
                        models.Certification.expires_on <= horizon,
                    )
                    .order_by(models.Certification.expires_on, models.Certification.id)
                )
            )
        vendors = await info.context.loaders.get(L.VendorByIdLoader).load_many(
            [r.vendor_id for r in rows]
        )
        return [
            ExpiringCertification(
                certification=Certification.from_row(r),
                vendor=Vendor.from_row(v) if v else None,
            )
            for r, v in zip(rows, vendors, strict=True)
        ]

    @strawberry.field(
        extensions=[allow(*MANAGE)],
        description="Onboarding form submissions from the webhook, newest first.",
    )
    async def onboarding_submissions(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        status: list[OnboardingStatus] | None = None,
    ) -> Connection[OnboardingSubmission]:
        stmt = select(models.OnboardingSubmission)
        if status:
            stmt = stmt.where(models.OnboardingSubmission.status.in_([s.value for s in status]))
        order = KeysetOrder(
            (models.OnboardingSubmission.received_at, models.OnboardingSubmission.id),
            descending=True,
        )
        async with info.context.sessions() as session:
            return await paginate(
                session,
                stmt,
                order,
                first=first,
                after=after,
                to_node=OnboardingSubmission.from_row,
            )

    @strawberry.field(
        extensions=[allow(*STAFF, Role.VENDOR)],
        description="Charters open to a vendor's bid: quoted or booked, pickup ahead, more than "
        "the configured miles from the hub and inside the vendor's service radius, not yet bid "
        "on. Vendors get their own; staff pass `vendorId`.",
    )
    async def bid_opportunities(
        self, info: Info, vendor_id: strawberry.ID | None = None
    ) -> list[BidOpportunity]:
        viewer = await info.context.get_viewer()
        settings = info.context.settings
        async with info.context.sessions() as session:
            own = await vendor_of(session, viewer)
            if viewer.is_staff:
                if vendor_id is None:
                    raise BadUserInputError("Staff must pass `vendorId`.")
                key = parse_uuid(vendor_id)
            else:
                key = own
                if vendor_id is not None and parse_uuid(vendor_id) != own:
                    raise NotFoundError("Vendor", vendor_id)
            vendor = await session.get(models.Vendor, key) if key else None
            if vendor is None:
                raise NotFoundError("Vendor", vendor_id)
            hub = opportunities.Hub(
                latitude=settings.operator_hub_latitude,
                longitude=settings.operator_hub_longitude,
                min_miles=settings.bid_opportunity_min_miles,
            )
            found = await opportunities.for_vendor(session, vendor, hub, datetime.now(UTC))
        return [
            BidOpportunity(
                charter=Charter(id=strawberry.ID(str(o.charter.charter_id))),
                reference=o.charter.reference,
                status=o.charter.status.upper(),
                pickup_at=o.charter.pickup_at,
                pickup_address=o.charter.pickup_address,
                passenger_count=o.charter.passenger_count,
                miles_from_hub=round(o.miles_from_hub, 1),
                miles_from_base=round(o.miles_from_base, 1),
            )
            for o in found
        ]

    @strawberry.field(
        extensions=[allow(Role.VENDOR)],
        description="Your vendor's bids, newest first (at most 200).",
    )
    async def my_bids(
        self, info: Info, status: list[BidStatus] | None = None, first: int = 50
    ) -> list[Bid]:
        if not 0 <= first <= 200:
            raise BadUserInputError("`first` must be between 0 and 200.")
        viewer = await info.context.get_viewer()
        async with info.context.sessions() as session:
            own = await vendor_of(session, viewer)
            if own is None:
                return []
            rows = list(
                await session.scalars(
                    select(models.Bid)
                    .where(models.Bid.vendor_id == own)
                    .order_by(models.Bid.created_at.desc(), models.Bid.id.desc())
                    .limit(200)
                )
            )
        now = datetime.now(UTC)
        wanted = {s.value for s in status} if status else None
        if wanted is not None:
            rows = [r for r in rows if bid_rules.effective_status(r, now) in wanted]
        return [Bid.from_row(r) for r in rows[:first]]
