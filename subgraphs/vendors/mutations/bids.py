"""Bid mutations: vendors bid and withdraw; staff reject and accept."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import strawberry
from strawberry.types import Info

from protocol.roles import Role
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money
from subgraphs.vendors.error_codes import VendorErrorCode as Code
from subgraphs.vendors.mutations.common import parse_id
from subgraphs.vendors.service import bids
from subgraphs.vendors.service.access import REVIEW_BIDS, STAFF_EDIT, vendor_of
from subgraphs.vendors.service.opportunities import Hub
from subgraphs.vendors.types import Bid, VendorAssignment

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer
    from subgraphs.vendors import models


@strawberry.input
class CreateBidInput:
    charter_id: strawberry.ID
    amount: Money
    vehicle_type: str
    valid_until: datetime | None = strawberry.field(
        default=None,
        description="Until when the bid holds; 72 hours from now when omitted (never past "
        "the charter's pickup).",
    )
    vehicle_count: int = 1
    charter_vehicle_id: strawberry.ID | None = strawberry.field(
        default=None, description="Bid on one vehicle of the charter; omit for the whole charter."
    )
    notes: str | None = None
    vendor_id: strawberry.ID | None = strawberry.field(
        default=None, description="Staff bidding on a vendor's behalf; vendors omit it."
    )


@strawberry.type
class BidPayload:
    bid: Bid | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AcceptBidPayload:
    bid: Bid | None = None
    assignments: list[VendorAssignment] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _payload(row: models.Bid | None, errors: list[UserError]) -> BidPayload:
    return BidPayload(bid=Bid.from_row(row) if row else None, user_errors=errors)


async def _bidder(session: AsyncSession, viewer: Viewer, given: strawberry.ID | None) -> uuid.UUID:
    if given is not None:
        return parse_id(given, "vendorId")
    own = await vendor_of(session, viewer)
    if own is None:
        raise ServiceError.of(Code.REQUIRED, "Say which vendor bids.", "vendorId")
    return own


@strawberry.type
class BidMutations:
    @strawberry.mutation(
        extensions=[allow(*STAFF_EDIT, Role.VENDOR)],
        description="A bid on a quoted or booked charter; submitted at once unless `submit` is false "
        "(a draft). Only an active, compliant vendor may submit. A vendor bids only on charters "
        "offered to it (`bidOpportunities`), at most twice per charter vehicle (or whole charter), "
        "drafts included: its bid and one replacement after withdrawing it.",
    )
    async def create_bid(
        self, info: Info, input: CreateBidInput, submit: bool = True
    ) -> BidPayload:
        viewer = await info.context.get_viewer()
        required = info.context.settings.required_certifications
        hub = Hub.from_settings(info.context.settings)

        async def work(session: AsyncSession) -> models.Bid:
            vendor_id = await _bidder(session, viewer, input.vendor_id)
            data = bids.BidInput(
                charter_id=parse_id(input.charter_id, "charterId"),
                charter_vehicle_id=(
                    parse_id(input.charter_vehicle_id, "charterVehicleId")
                    if input.charter_vehicle_id is not None
                    else None
                ),
                amount=input.amount,
                vehicle_type=input.vehicle_type,
                vehicle_count=input.vehicle_count,
                valid_until=input.valid_until,
                notes=input.notes,
            )
            return await bids.create(
                session,
                vendor_id,
                data,
                viewer,
                submit=submit,
                required=required,
                hub=hub,
                now=datetime.now(UTC),
            )

        row, errors = await transact(info, work)
        return _payload(row, errors)

    @strawberry.mutation(
        extensions=[allow(*STAFF_EDIT, Role.VENDOR)], description="Submit a draft bid."
    )
    async def submit_bid(self, info: Info, id: strawberry.ID) -> BidPayload:
        viewer = await info.context.get_viewer()
        required = info.context.settings.required_certifications
        hub = Hub.from_settings(info.context.settings)
        row, errors = await transact(
            info,
            lambda s: bids.submit(
                s, parse_id(id, "id"), viewer, required=required, hub=hub, now=datetime.now(UTC)
            ),
        )
        return _payload(row, errors)

    @strawberry.mutation(
        extensions=[allow(*STAFF_EDIT, Role.VENDOR)],
        description="Withdraw a draft, submitted or under-review bid.",
    )
    async def withdraw_bid(self, info: Info, id: strawberry.ID) -> BidPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info, lambda s: bids.withdraw(s, parse_id(id, "id"), viewer, now=datetime.now(UTC))
        )
        return _payload(row, errors)

    @strawberry.mutation(
        extensions=[allow(*REVIEW_BIDS)],
        description="Mark a submitted bid under review: staff are looking at it. It stays live "
        "(ranked, open to acceptance or rejection, withdrawable, expiring at its validity).",
    )
    async def review_bid(self, info: Info, id: strawberry.ID) -> BidPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info, lambda s: bids.review(s, parse_id(id, "id"), viewer, now=datetime.now(UTC))
        )
        return _payload(row, errors)

    @strawberry.mutation(
        extensions=[allow(*STAFF_EDIT)], description="Turn a submitted or under-review bid down."
    )
    async def reject_bid(
        self, info: Info, id: strawberry.ID, reason: str | None = None
    ) -> BidPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info,
            lambda s: bids.reject(
                s, parse_id(id, "id"), viewer, reason=reason, now=datetime.now(UTC)
            ),
        )
        return _payload(row, errors)

    @strawberry.mutation(
        extensions=[allow(*STAFF_EDIT)],
        description="Accept a submitted or under-review bid: in one transaction the competing "
        "live bids are "
        "rejected and the vendor is assigned for the bid's amount (a whole-charter bid assigns "
        "every vehicle not yet held, the amount split evenly).",
    )
    async def accept_bid(self, info: Info, id: strawberry.ID) -> AcceptBidPayload:
        viewer = await info.context.get_viewer()
        required = info.context.settings.required_certifications
        result, errors = await transact(
            info,
            lambda s: bids.accept(
                s, parse_id(id, "id"), viewer, required=required, now=datetime.now(UTC)
            ),
        )
        if result is None:
            return AcceptBidPayload(user_errors=errors)
        bid, made = result
        return AcceptBidPayload(
            bid=Bid.from_row(bid), assignments=[VendorAssignment.from_row(a) for a in made]
        )
