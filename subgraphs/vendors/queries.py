from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from enum import Enum

import strawberry
from sqlalchemy import false, func, select
from strawberry.types import Info

from protocol.roles import Role
from subgraphs.kit.cost import page
from subgraphs.kit.errors import BadUserInputError, NotFoundError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.pagination import Connection, Edge, KeysetOrder, paginate
from subgraphs.kit.permissions import allow
from subgraphs.vendors import loaders as L
from subgraphs.vendors import models
from subgraphs.vendors.enums import BidStatus, OnboardingStatus, VendorStatus
from subgraphs.vendors.queries_reports import ReportQueries
from subgraphs.vendors.service import bids as bid_rules
from subgraphs.vendors.service import my_assignments, opportunities
from subgraphs.vendors.service.access import MANAGE, STAFF, vendor_of
from subgraphs.vendors.types import (
    Bid,
    BidOpportunity,
    Certification,
    Charter,
    OnboardingSubmission,
    Vendor,
    VendorAssignment,
    today,
    vendor_or_none,
)


@strawberry.enum(description="Which of a vendor's assignments `myAssignments` lists.")
class AssignmentWindow(Enum):
    PENDING = "pending"
    UPCOMING = "upcoming"
    PAST = "past"


@strawberry.type
class ExpiringCertification:
    certification: Certification
    vendor: Vendor | None


@strawberry.type
class Query(ReportQueries):
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

    @strawberry.field(
        extensions=[allow(*STAFF)], directives=[page()], description="Vendors by name."
    )
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
        self, info: Info, within_days: int = 30, first: int | None = 20, after: str | None = None
    ) -> Connection[ExpiringCertification]:
        if not 0 <= within_days <= 366:
            raise BadUserInputError("`withinDays` must be between 0 and 366.")
        horizon = today() + timedelta(days=within_days)
        stmt = select(models.Certification).where(
            models.Certification.status == "active",
            models.Certification.expires_on <= horizon,
        )
        order = KeysetOrder((models.Certification.expires_on, models.Certification.id))
        vendors = info.context.loaders.get(L.VendorByIdLoader)

        async def node(row: models.Certification) -> ExpiringCertification:
            vendor = await vendors.load(row.vendor_id)
            return ExpiringCertification(
                certification=Certification.from_row(row),
                vendor=Vendor.from_row(vendor) if vendor else None,
            )

        async with info.context.sessions() as session:
            page = await paginate(session, stmt, order, first=first, after=after)
        # Vendors of the page in one batch (the loader gathers concurrent loads).
        nodes = await asyncio.gather(*(node(edge.node) for edge in page.edges))
        return Connection(
            edges=[
                Edge(cursor=edge.cursor, node=n) for edge, n in zip(page.edges, nodes, strict=True)
            ],
            page_info=page.page_info,
            total_count=page.total_count,
        )

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
        "on; soonest pickup first. Vendors get their own; staff pass `vendorId`. A vendor bids "
        "only on charters offered to it.",
    )
    async def bid_opportunities(
        self,
        info: Info,
        vendor_id: strawberry.ID | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[BidOpportunity]:
        viewer = await info.context.get_viewer()
        hub = opportunities.Hub.from_settings(info.context.settings)
        now = datetime.now(UTC)
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
            stmt = opportunities.open_to_bid(vendor, hub, now)
            if stmt is None:  # no service area: nothing is offered
                stmt = select(models.CharterFacts).where(false())
            order = KeysetOrder((models.CharterFacts.pickup_at, models.CharterFacts.charter_id))

            def node(charter: models.CharterFacts) -> BidOpportunity:
                found = opportunities.opportunity(charter, vendor, hub)
                return BidOpportunity(
                    charter=Charter(id=strawberry.ID(str(charter.charter_id))),
                    reference=charter.reference,
                    status=charter.status.upper(),
                    pickup_at=charter.pickup_at,
                    pickup_address=charter.pickup_address,
                    passenger_count=charter.passenger_count,
                    miles_from_hub=round(found.miles_from_hub, 1),
                    miles_from_base=round(found.miles_from_base, 1),
                )

            return await paginate(session, stmt, order, first=first, after=after, to_node=node)

    @strawberry.field(
        extensions=[allow(Role.VENDOR)],
        description="Your vendor's bids, newest first. A submitted bid past `validUntil` is "
        "EXPIRED (for the `status` filter too).",
    )
    async def my_bids(
        self,
        info: Info,
        status: list[BidStatus] | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[Bid]:
        viewer = await info.context.get_viewer()
        async with info.context.sessions() as session:
            own = await vendor_of(session, viewer)
            stmt = select(models.Bid).where(
                models.Bid.vendor_id == own if own is not None else false()
            )
            if status:
                stmt = stmt.where(
                    bid_rules.effective_status_in({s.value for s in status}, datetime.now(UTC))
                )
            order = KeysetOrder((models.Bid.created_at, models.Bid.id), descending=True)
            return await paginate(
                session, stmt, order, first=first, after=after, to_node=Bid.from_row
            )

    @strawberry.field(
        extensions=[allow(Role.VENDOR)],
        description="Your vendor's assignments, newest first: PENDING (offered, awaiting your "
        "answer), UPCOMING (accepted, trip not over) or PAST (completed, or pickup gone by).",
    )
    async def my_assignments(
        self,
        info: Info,
        window: AssignmentWindow = AssignmentWindow.UPCOMING,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[VendorAssignment]:
        viewer = await info.context.get_viewer()
        async with info.context.sessions() as session:
            own = await vendor_of(session, viewer)
            if own is None:
                stmt = select(models.VendorAssignment).where(false())
            else:
                stmt = my_assignments.assignments_of(
                    own, my_assignments.Window(window.value), datetime.now(UTC)
                )
            order = KeysetOrder(
                (models.VendorAssignment.created_at, models.VendorAssignment.id), descending=True
            )
            return await paginate(
                session, stmt, order, first=first, after=after, to_node=VendorAssignment.from_row
            )
