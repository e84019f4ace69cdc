"""Vendors' bids on charters: create, submit, withdraw, reject, accept, expire, rank.

A bid is on a whole charter or on one of its charter vehicles. Only an
active, compliant vendor may submit one (`assignments.ensure_eligible`).
Accepting a bid is one transaction: the bid is accepted, competing
submitted bids are rejected and vendor assignments are created with the
agreed amount. Concurrent accepts on one charter serialize on the row locks
of the charter's bids, taken in id order; the partial unique index on
holding assignments is the last line of defence.

A bid is valid until `valid_until`: when the bidder gives none, 72 hours
from placing it (seed 002's `BID_EXPIRATION_HOURS`), never past the
charter's pickup. A live bid (submitted, or under review) past its
`valid_until` is expired: `effective_status` shows it as such on read, and
the daily job calls `expire_stale_bids` to store it.

Staff mark a submitted bid under review (both seeds have the state) to say
someone is looking at it; it stays live: it ranks, competes, may be
withdrawn by the vendor, expires, and is accepted or rejected like a
submitted bid. Who may: `access.REVIEW_BIDS`.

Security review (issue 8):
- finding 13: a vendor user bids only on charters offered to it (its
  opportunities: `opportunities.is_offered`); anything else, unknown or
  not, is the same "not open to your bids", and no message names a fact of
  a charter the caller may not read (no pickup time, status or reference).
  Staff placing a bid for a vendor (taken by phone) are not limited to its
  offers; the vendor's eligibility still applies.
- finding 7: a vendor places at most `MAX_BIDS_PER_TARGET` bids on one
  target (a charter vehicle, or the whole charter), drafts included: its
  bid and one replacement after withdrawing it. Together with the standing
  (rank, lowest) being hidden from vendors, submit-and-withdraw no longer
  measures a competitor's amount.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select

from protocol.scalars import CENT
from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.vendors import states
from subgraphs.vendors.error_codes import VendorErrorCode as Code
from subgraphs.vendors.models import (
    HOLDING_ASSIGNMENT,
    Bid,
    CharterFacts,
    CharterVehicleFacts,
    VendorAssignment,
)
from subgraphs.vendors.service import assignments, audit, opportunities
from subgraphs.vendors.service.access import (
    REVIEW_BIDS,
    STAFF_EDIT,
    ensure_role,
    ensure_vendor_scope,
)
from subgraphs.vendors.service.opportunities import BIDDABLE_CHARTER, Hub
from subgraphs.vendors.service.vendors import get as get_vendor

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer
    from subgraphs.vendors.models import Vendor

#: Bids still open for a decision (`states.LIVE_BIDS`): they compete, rank and expire.
LIVE = states.LIVE_BIDS
#: Bids that take part in a charter's ranking.
RANKED = (*LIVE, "accepted")
#: How long a bid holds when the bidder gives no `validUntil` (seed 002).
DEFAULT_VALIDITY = timedelta(hours=72)
MAX_VEHICLE_TYPE = 50
MAX_NOTES = 2000
MAX_REASON = 500
#: Bids one vendor may place on one target, drafts included: a bid and one replacement.
MAX_BIDS_PER_TARGET = 2
#: The one answer a vendor gets for a charter it may not bid on, whatever the reason.
NOT_OFFERED = "This charter is not open to your bids."


@dataclass(frozen=True)
class BidInput:
    charter_id: uuid.UUID
    amount: Decimal
    vehicle_type: str
    #: None: `DEFAULT_VALIDITY` from placing it, capped at the charter's pickup.
    valid_until: datetime | None = None
    vehicle_count: int = 1
    charter_vehicle_id: uuid.UUID | None = None
    notes: str | None = None


@dataclass(frozen=True)
class BidTarget:
    """What a bid is on and until when: enough to check it may be placed."""

    charter_id: uuid.UUID
    charter_vehicle_id: uuid.UUID | None
    valid_until: datetime

    @classmethod
    def of(cls, bid: Bid) -> BidTarget:
        return cls(bid.charter_id, bid.charter_vehicle_id, bid.valid_until)


# -- reading -----------------------------------------------------------------


def effective_status(bid: Bid, now: datetime) -> str:
    """The stored status, except that a live bid past its validity is expired."""
    if bid.status in LIVE and bid.valid_until <= now:
        return "expired"
    return bid.status


def effective_status_in(statuses: set[str], now: datetime) -> ColumnElement[bool]:
    """SQL for "the effective status is one of `statuses`" (see `effective_status`)."""
    conditions: list[ColumnElement[bool]] = []
    for status in sorted(statuses):
        if status == "expired":
            conditions.append(
                or_(Bid.status == "expired", and_(Bid.status.in_(LIVE), Bid.valid_until <= now))
            )
        elif status in LIVE:
            conditions.append(and_(Bid.status == status, Bid.valid_until > now))
        else:
            conditions.append(Bid.status == status)
    return or_(false(), *conditions)


@dataclass(frozen=True)
class Ranking:
    rank: int
    is_lowest: bool
    difference_from_lowest: Decimal


def rank_bids(bids: Sequence[Bid], now: datetime) -> dict[uuid.UUID, Ranking]:
    """Rank a charter's submitted (still valid) and accepted bids.

    Rank 1 is the lowest amount; equal amounts rank by earliest submission
    (then id, so the order is total). `is_lowest` is true for every bid at
    the lowest amount, so ties share it while their ranks still differ.
    """
    ranked = sorted(
        (b for b in bids if effective_status(b, now) in RANKED),
        key=lambda b: (b.amount, b.submitted_at or b.created_at, str(b.id)),
    )
    if not ranked:
        return {}
    lowest = ranked[0].amount
    return {
        b.id: Ranking(
            rank=position,
            is_lowest=b.amount == lowest,
            difference_from_lowest=(b.amount - lowest).quantize(CENT),
        )
        for position, b in enumerate(ranked, start=1)
    }


# -- validation ----------------------------------------------------------------


def input_problems(data: BidInput, now: datetime) -> list[Problem]:
    problems = []
    if data.amount <= 0:
        problems.append(Problem(Code.OUT_OF_RANGE, "The amount must be more than 0.00.", "amount"))
    if data.amount.as_tuple().exponent < -2:  # type: ignore[operator]
        problems.append(Problem(Code.INVALID, "Amounts have at most two decimals.", "amount"))
    if data.vehicle_count < 1:
        problems.append(Problem(Code.OUT_OF_RANGE, "Bid on at least one vehicle.", "vehicleCount"))
    if not data.vehicle_type.strip():
        problems.append(Problem(Code.REQUIRED, "Say which vehicle type you offer.", "vehicleType"))
    elif len(data.vehicle_type.strip()) > MAX_VEHICLE_TYPE:
        problems.append(
            Problem(
                Code.TOO_LONG,
                f"The vehicle type is longer than {MAX_VEHICLE_TYPE} characters.",
                "vehicleType",
            )
        )
    if data.notes is not None and len(data.notes) > MAX_NOTES:
        problems.append(
            Problem(Code.TOO_LONG, f"Notes are longer than {MAX_NOTES} characters.", "notes")
        )
    if data.valid_until is not None and data.valid_until <= now:
        problems.append(
            Problem(Code.OUT_OF_RANGE, "`validUntil` must be in the future.", "validUntil")
        )
    return problems


def acts_for_vendor(actor: Viewer) -> bool:
    """A vendor user (not staff bidding on a vendor's behalf): offers apply."""
    return not actor.has_any_role(*STAFF_EDIT)


async def _biddable_charter(
    session: AsyncSession,
    vendor: Vendor,
    data: BidTarget,
    actor: Viewer,
    *,
    hub: Hub,
    now: datetime,
) -> CharterFacts:
    """The charter, if this bid may be placed on it; messages name only readable facts."""
    if acts_for_vendor(actor) and not await opportunities.is_offered(
        session, vendor, data.charter_id, hub, now
    ):
        raise ServiceError.of(Code.NOT_FOUND, NOT_OFFERED, "charterId")
    charter = await session.get(CharterFacts, data.charter_id)
    if charter is None or charter.is_template:
        raise ServiceError.of(Code.NOT_FOUND, "This charter is not known.", "charterId")
    if charter.status not in BIDDABLE_CHARTER:
        raise ServiceError.of(
            Code.INVALID_TRANSITION,
            f"{charter.reference} is {charter.status}; only quoted or booked charters take bids.",
            "charterId",
        )
    if data.charter_vehicle_id is not None:
        owner = await session.scalar(
            select(CharterVehicleFacts.charter_id).where(
                CharterVehicleFacts.charter_vehicle_id == data.charter_vehicle_id
            )
        )
        if owner != data.charter_id:
            raise ServiceError.of(
                Code.NOT_FOUND, "This is not a vehicle of the charter.", "charterVehicleId"
            )
    if data.valid_until > charter.pickup_at:
        raise ServiceError.of(
            Code.OUT_OF_RANGE, "`validUntil` must not be after the charter's pickup.", "validUntil"
        )
    return charter


def _same_target(bid: Bid | BidTarget) -> Any:
    return (
        Bid.charter_vehicle_id == bid.charter_vehicle_id
        if bid.charter_vehicle_id is not None
        else Bid.charter_vehicle_id.is_(None)
    )


async def _ensure_bid_allowance(
    session: AsyncSession, vendor_id: uuid.UUID, data: BidTarget
) -> None:
    """At most `MAX_BIDS_PER_TARGET` bids per vendor and target, whatever their status."""
    placed = await session.scalar(
        select(func.count())
        .select_from(Bid)
        .where(Bid.vendor_id == vendor_id, Bid.charter_id == data.charter_id, _same_target(data))
    )
    if (placed or 0) >= MAX_BIDS_PER_TARGET:
        target = "charter vehicle" if data.charter_vehicle_id else "charter"
        raise ServiceError.of(
            Code.CONFLICT,
            f"This vendor has placed {MAX_BIDS_PER_TARGET} bids on this {target} "
            "(a bid and one replacement); no more can be placed.",
            "charterVehicleId" if data.charter_vehicle_id else "charterId",
        )


async def _ensure_no_other_submitted(session: AsyncSession, bid: Bid) -> None:
    """One live bid per vendor per target: withdraw the old one to bid again."""
    other = await session.scalar(
        select(Bid.id).where(
            Bid.vendor_id == bid.vendor_id,
            Bid.charter_id == bid.charter_id,
            _same_target(bid),
            Bid.status.in_(LIVE),
            Bid.id != bid.id,
        )
    )
    if other is not None:
        raise ServiceError.of(
            Code.CONFLICT,
            "This vendor already has a submitted bid here; withdraw it to bid again.",
            "charterVehicleId" if bid.charter_vehicle_id else "charterId",
        )


# -- changes -------------------------------------------------------------------


async def create(
    session: AsyncSession,
    vendor_id: uuid.UUID,
    data: BidInput,
    actor: Viewer,
    *,
    submit: bool,
    required: Sequence[str],
    hub: Hub,
    now: datetime,
) -> Bid:
    """A draft bid, or a submitted one when `submit` (eligibility checked).

    The vendor's row is locked: one vendor's bids are placed one at a time,
    so the per-target allowance holds under concurrency.
    """
    await ensure_vendor_scope(session, actor, vendor_id, staff_roles=STAFF_EDIT)
    problems = input_problems(data, now)
    if problems:
        raise ServiceError(problems)
    valid_until = data.valid_until or await default_validity(session, data.charter_id, now)
    vendor = await get_vendor(session, vendor_id, lock=True)
    target = BidTarget(data.charter_id, data.charter_vehicle_id, valid_until)
    await _biddable_charter(session, vendor, target, actor, hub=hub, now=now)
    await _ensure_bid_allowance(session, vendor.id, target)
    bid = Bid(
        id=uuid.uuid4(),
        vendor_id=vendor.id,
        charter_id=data.charter_id,
        charter_vehicle_id=data.charter_vehicle_id,
        amount=data.amount,
        vehicle_type=data.vehicle_type.strip(),
        vehicle_count=data.vehicle_count,
        valid_until=valid_until,
        notes=(data.notes or "").strip() or None,
        status="draft",
    )
    if submit:
        await assignments.ensure_eligible(session, vendor, required)
        await _ensure_no_other_submitted(session, bid)
        bid.status = "submitted"
        bid.submitted_at = now
    session.add(bid)
    await session.flush()
    audit.record(
        session,
        vendor_id=vendor.id,
        entity="bid",
        entity_id=bid.id,
        action="create" if not submit else "submit",
        actor=actor,
        before=None,
        after=audit.row_snapshot(bid),
    )
    return bid


async def default_validity(session: AsyncSession, charter_id: uuid.UUID, now: datetime) -> datetime:
    """`DEFAULT_VALIDITY` from now, but never past a pickup still to come.

    A bid held past the pickup is worthless; a charter whose pickup has
    passed is refused by `_biddable_charter` with its own message.
    """
    default = now + DEFAULT_VALIDITY
    pickup = await session.scalar(
        select(CharterFacts.pickup_at).where(CharterFacts.charter_id == charter_id)
    )
    if pickup is not None and now < pickup < default:
        return pickup
    return default


async def _locked(session: AsyncSession, bid_id: uuid.UUID) -> Bid:
    bid = await session.scalar(
        select(Bid)
        .where(Bid.id == bid_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if bid is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Bid {bid_id} does not exist.", "id")
    return bid


def _move(
    session: AsyncSession, bid: Bid, status: str, actor: Viewer | None, **changes: object
) -> None:
    states.BID.check(bid.status, status)
    before = audit.row_snapshot(bid)
    bid.status = status
    for key, value in changes.items():
        setattr(bid, key, value)
    audit.record(
        session,
        vendor_id=bid.vendor_id,
        entity="bid",
        entity_id=bid.id,
        action=f"status:{status}",
        actor=actor,
        before=before,
        after=audit.row_snapshot(bid),
    )


def _ensure_not_expired(bid: Bid, now: datetime) -> None:
    if effective_status(bid, now) == "expired":
        raise ServiceError.of(
            Code.EXPIRED, f"The bid expired at {bid.valid_until.isoformat()}.", "id"
        )


async def submit(
    session: AsyncSession,
    bid_id: uuid.UUID,
    actor: Viewer,
    *,
    required: Sequence[str],
    hub: Hub,
    now: datetime,
) -> Bid:
    bid = await _locked(session, bid_id)
    await ensure_vendor_scope(session, actor, bid.vendor_id, staff_roles=STAFF_EDIT)
    states.BID.check(bid.status, "submitted")
    if bid.valid_until <= now:
        raise ServiceError.of(
            Code.EXPIRED, "`validUntil` has passed; create a new bid.", "validUntil"
        )
    vendor = await get_vendor(session, bid.vendor_id)
    await _biddable_charter(session, vendor, BidTarget.of(bid), actor, hub=hub, now=now)
    await assignments.ensure_eligible(session, vendor, required)
    await _ensure_no_other_submitted(session, bid)
    _move(session, bid, "submitted", actor, submitted_at=now)
    return bid


async def withdraw(
    session: AsyncSession, bid_id: uuid.UUID, actor: Viewer, *, now: datetime
) -> Bid:
    bid = await _locked(session, bid_id)
    await ensure_vendor_scope(session, actor, bid.vendor_id, staff_roles=STAFF_EDIT)
    _ensure_not_expired(bid, now)
    _move(session, bid, "withdrawn", actor, decided_by=actor.user_id, decided_at=now)
    return bid


async def review(session: AsyncSession, bid_id: uuid.UUID, actor: Viewer, *, now: datetime) -> Bid:
    """Staff mark a submitted bid under review; the vendor sees someone is on it."""
    ensure_role(actor, REVIEW_BIDS, "review bids")
    bid = await _locked(session, bid_id)
    _ensure_not_expired(bid, now)
    _move(session, bid, "under_review", actor)
    return bid


async def reject(
    session: AsyncSession, bid_id: uuid.UUID, actor: Viewer, *, reason: str | None, now: datetime
) -> Bid:
    ensure_role(actor, STAFF_EDIT, "reject bids")
    if reason is not None and len(reason) > MAX_REASON:
        raise ServiceError.of(
            Code.TOO_LONG, f"Reason is longer than {MAX_REASON} characters.", "reason"
        )
    bid = await _locked(session, bid_id)
    _ensure_not_expired(bid, now)
    _move(
        session,
        bid,
        "rejected",
        actor,
        decided_by=actor.user_id,
        decided_at=now,
        decision_reason=(reason or "").strip() or None,
    )
    return bid


def split_amount(amount: Decimal, parts: int) -> list[Decimal]:
    """`amount` in `parts` cent-exact shares that add up to it; extra cents go first."""
    cents = int((amount / CENT).to_integral_value())
    share, extra = divmod(cents, parts)
    return [(Decimal(share + (1 if i < extra else 0)) * CENT).quantize(CENT) for i in range(parts)]


async def accept(
    session: AsyncSession,
    bid_id: uuid.UUID,
    actor: Viewer,
    *,
    required: Sequence[str],
    now: datetime,
) -> tuple[Bid, list[VendorAssignment]]:
    """Accept, reject the competition, assign the vendor: all or nothing.

    A bid on one charter vehicle assigns that vehicle for the bid's amount.
    A whole-charter bid assigns every vehicle of the charter that no
    assignment holds yet, the amount split evenly (cent-exact, remainder on
    the first vehicles); if every vehicle is held the accept is refused.
    """
    ensure_role(actor, STAFF_EDIT, "accept bids")
    charter_id = await session.scalar(select(Bid.charter_id).where(Bid.id == bid_id))
    if charter_id is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Bid {bid_id} does not exist.", "id")
    # Lock every bid of the charter in one stable order: concurrent accepts on
    # this charter queue here, and the later one sees the earlier's outcome.
    charter_bids = list(
        await session.scalars(
            select(Bid)
            .where(Bid.charter_id == charter_id)
            .order_by(Bid.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    bid = next(b for b in charter_bids if b.id == bid_id)
    _ensure_not_expired(bid, now)
    states.BID.check(bid.status, "accepted")

    if bid.charter_vehicle_id is not None:
        vehicles = [bid.charter_vehicle_id]
        competing = [
            b
            for b in charter_bids
            if b.id != bid.id
            and b.status in LIVE
            and b.charter_vehicle_id == bid.charter_vehicle_id
        ]
    else:
        held = select(VendorAssignment.charter_vehicle_id).where(
            VendorAssignment.charter_id == charter_id,
            VendorAssignment.status.in_(HOLDING_ASSIGNMENT),
        )
        vehicles = list(
            await session.scalars(
                select(CharterVehicleFacts.charter_vehicle_id)
                .where(
                    CharterVehicleFacts.charter_id == charter_id,
                    CharterVehicleFacts.charter_vehicle_id.not_in(held),
                )
                .order_by(CharterVehicleFacts.charter_vehicle_id)
            )
        )
        if not vehicles:
            raise ServiceError.of(
                Code.ALREADY_ASSIGNED,
                "Every vehicle of this charter already has a vendor.",
                "id",
            )
        competing = [b for b in charter_bids if b.id != bid.id and b.status in LIVE]

    _move(session, bid, "accepted", actor, decided_by=actor.user_id, decided_at=now)
    for other in competing:
        _move(
            session,
            other,
            "rejected",
            actor,
            decided_by=actor.user_id,
            decided_at=now,
            decision_reason="Another bid was accepted.",
        )
    made = []
    for vehicle_id, amount in zip(vehicles, split_amount(bid.amount, len(vehicles)), strict=True):
        made.append(
            await assignments.assign(
                session,
                charter_vehicle_id=vehicle_id,
                vendor_id=bid.vendor_id,
                amount=amount,
                actor=actor,
                required=required,
                bid_id=bid.id,
            )
        )
    await session.flush()
    return bid, made


async def expire_stale_bids(session: AsyncSession, now: datetime) -> int:
    """Store `expired` on live bids past their validity; returns how many.

    Safe to run any number of times; the daily job calls it.
    """
    stale = list(
        await session.scalars(
            select(Bid)
            .where(Bid.status.in_(LIVE), Bid.valid_until <= now)
            .order_by(Bid.id)
            .with_for_update(skip_locked=True)
        )
    )
    for bid in stale:
        _move(session, bid, "expired", None, decided_at=now, decision_reason="Validity passed.")
    await session.flush()
    return len(stale)
