"""Ratings of a vendor for one completed charter, and the vendor's reply.

Who may rate: staff, or the charter's own client: a client account whose
verified token carries the `client_id` claim (identity's link from a
client login to its client company) matching the charter's client
(`charter_facts.client_id`).

A vendor served a charter when one of its assignments on the charter's
vehicles was confirmed and followed the trip (`in_progress`, `completed`;
a `confirmed` one counts too, for trips whose start and end vendors never
heard of). One rating per charter per vendor is the database's unique
constraint.

Scores take one decimal from 1.0 to 5.0 (seed 002's own example rates
4.5): stored exactly as NUMERIC(2,1), the step checked here because
PostgreSQL would silently round 4.55 to 4.6. Averages are computed in SQL
as exact NUMERIC and rounded half-up to two places.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Numeric, func, select
from sqlalchemy.dialects.postgresql import insert

from protocol.roles import Role
from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.vendors.error_codes import VendorErrorCode as Code
from subgraphs.vendors.models import CharterFacts, Rating, VendorAssignment
from subgraphs.vendors.service import audit
from subgraphs.vendors.service.access import (
    RESPOND_TO_RATINGS,
    ensure_role,
    ensure_vendor_scope,
)
from subgraphs.vendors.service.vendors import get as get_vendor

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

#: Column names of the six categories, in display order.
CATEGORIES = (
    "overall",
    "vehicle_condition",
    "driver_professionalism",
    "on_time",
    "communication",
    "value",
)
#: Assignment statuses that mean the vendor served the charter.
SERVED = ("confirmed", "in_progress", "completed")
MAX_TEXT = 2000
TWO_PLACES = Decimal("0.01")
#: Scores: from MIN_SCORE to MAX_SCORE in steps of SCORE_STEP (seed 002).
MIN_SCORE = Decimal("1.0")
MAX_SCORE = Decimal("5.0")
SCORE_STEP = Decimal("0.1")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


@dataclass(frozen=True)
class NewRating:
    overall: Decimal
    vehicle_condition: Decimal
    driver_professionalism: Decimal
    on_time: Decimal
    communication: Decimal
    value: Decimal
    comment: str | None = None


@dataclass(frozen=True)
class Summary:
    """Exact averages (two places) per category; None when there is no rating."""

    count: int
    averages: dict[str, Decimal | None]


def score_problem(score: Decimal, field: str) -> Problem | None:
    """Why `score` is not a rating score, if it is not: range first, then the step."""
    if not score.is_finite() or not MIN_SCORE <= score <= MAX_SCORE:
        return Problem(Code.OUT_OF_RANGE, f"A score is from {MIN_SCORE} to {MAX_SCORE}.", field)
    if score % SCORE_STEP != 0:
        return Problem(Code.INVALID, "A score has at most one decimal (such as 4.5).", field)
    return None


def rating_problems(data: NewRating) -> list[Problem]:
    problems = [
        problem
        for c in CATEGORIES
        if (problem := score_problem(Decimal(getattr(data, c)), _camel(c))) is not None
    ]
    if data.comment is not None and len(data.comment) > MAX_TEXT:
        problems.append(Problem(Code.TOO_LONG, f"Comment is longer than {MAX_TEXT}.", "comment"))
    return problems


def may_rate(viewer: Viewer, charter: CharterFacts) -> bool:
    if viewer.is_staff:
        return True
    return (
        viewer.has_any_role(Role.CLIENT)
        and viewer.client_id is not None
        and viewer.client_id == charter.client_id
    )


async def rate(
    session: AsyncSession,
    *,
    vendor_id: uuid.UUID,
    charter_id: uuid.UUID,
    data: NewRating,
    actor: Viewer,
) -> Rating:
    vendor = await get_vendor(session, vendor_id)
    charter = await session.get(CharterFacts, charter_id)
    if charter is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Charter {charter_id} is not known.", "charterId")
    if not may_rate(actor, charter):
        raise ServiceError.of(
            Code.FORBIDDEN, "Only staff or the charter's client rate its vendors.", "charterId"
        )
    problems = rating_problems(data)
    if problems:
        raise ServiceError(problems)
    if charter.status != "completed":
        raise ServiceError.of(
            Code.NOT_ELIGIBLE,
            f"{charter.reference} is {charter.status}; only completed charters are rated.",
            "charterId",
        )
    served = await session.scalar(
        select(func.count())
        .select_from(VendorAssignment)
        .where(
            VendorAssignment.vendor_id == vendor.id,
            VendorAssignment.charter_id == charter_id,
            VendorAssignment.status.in_(SERVED),
        )
    )
    if not served:
        raise ServiceError.of(
            Code.NOT_ELIGIBLE, f"This vendor did not serve {charter.reference}.", "vendorId"
        )
    # The unique (vendor, charter) constraint decides, whatever the concurrency.
    rating_id = await session.scalar(
        insert(Rating)
        .values(
            id=uuid.uuid4(),
            vendor_id=vendor.id,
            charter_id=charter_id,
            rated_by=actor.user_id,
            comment=(data.comment or "").strip() or None,
            **{c: Decimal(getattr(data, c)).quantize(SCORE_STEP) for c in CATEGORIES},
        )
        .on_conflict_do_nothing(constraint="uq_ratings_vendor_charter")
        .returning(Rating.id)
    )
    if rating_id is None:
        raise ServiceError.of(
            Code.CONFLICT,
            f"This vendor has already been rated for {charter.reference}.",
            "charterId",
        )
    row = await session.get_one(Rating, rating_id)
    audit.record(
        session,
        vendor_id=vendor.id,
        entity="rating",
        entity_id=row.id,
        action="rate",
        actor=actor,
        before=None,
        after=audit.row_snapshot(row),
    )
    return row


async def respond(
    session: AsyncSession, rating_id: uuid.UUID, response: str, actor: Viewer
) -> Rating:
    """The rated vendor answers once, through one of its own users.

    Staff never write the reply: it is published as the vendor's own words
    (security review, "Also").
    """
    ensure_role(actor, RESPOND_TO_RATINGS, "reply to ratings")
    row = await session.scalar(select(Rating).where(Rating.id == rating_id).with_for_update())
    if row is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Rating {rating_id} does not exist.", "id")
    # No staff role passes here: only the rated vendor's own users.
    await ensure_vendor_scope(session, actor, row.vendor_id, staff_roles=())
    text = (response or "").strip()
    if not text:
        raise ServiceError.of(Code.REQUIRED, "Write a response.", "response")
    if len(text) > MAX_TEXT:
        raise ServiceError.of(Code.TOO_LONG, f"Response is longer than {MAX_TEXT}.", "response")
    if row.response is not None:
        raise ServiceError.of(
            Code.CONFLICT, "This rating already has the vendor's response.", "response"
        )
    before = audit.row_snapshot(row)
    row.response = text
    row.responded_at = datetime.now(UTC)
    audit.record(
        session,
        vendor_id=row.vendor_id,
        entity="rating",
        entity_id=row.id,
        action="respond",
        actor=actor,
        before=before,
        after=audit.row_snapshot(row),
    )
    return row


def _exact(value: Decimal | None) -> Decimal | None:
    return (
        Decimal(value).quantize(TWO_PLACES, rounding=ROUND_HALF_UP) if value is not None else None
    )


async def summaries(session: AsyncSession, vendor_ids: Sequence[uuid.UUID]) -> list[Summary]:
    """Count and exact averages per vendor, in one statement for many vendors."""
    columns = [func.avg(getattr(Rating, c).cast(Numeric())).label(c) for c in CATEGORIES]
    rows = await session.execute(
        select(Rating.vendor_id, func.count().label("count"), *columns)
        .where(Rating.vendor_id.in_(vendor_ids))
        .group_by(Rating.vendor_id)
    )
    by_vendor = {r.vendor_id: r for r in rows}
    result = []
    for vendor_id in vendor_ids:
        r = by_vendor.get(vendor_id)
        result.append(
            Summary(
                count=r.count if r else 0,
                averages={c: _exact(getattr(r, c)) if r else None for c in CATEGORIES},
            )
        )
    return result
