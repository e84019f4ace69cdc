from __future__ import annotations

from datetime import timedelta

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
from subgraphs.vendors.enums import VendorStatus
from subgraphs.vendors.service.access import MANAGE, STAFF
from subgraphs.vendors.types import Certification, Vendor, today, vendor_or_none


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
