"""Amenities on a charter: priced when added (the unit price is kept), shown as quote lines.

Only while the charter is a quote, and only by whoever may price it
(`access.ensure_may_price`). Adding an amenity the charter has changes its
quantity; removing one it does not have changes nothing.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from subgraphs.kit.errors import ServiceError
from subgraphs.pricing.error_codes import PricingErrorCode as Code
from subgraphs.pricing.models import Amenity, CharterAmenity
from subgraphs.pricing.service import facts
from subgraphs.pricing.service.access import ensure_may_price
from subgraphs.pricing.service.promos import OPEN_STATUSES

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

MAX_QUANTITY = 1000


async def _open_charter(session: AsyncSession, charter_id: uuid.UUID, actor: Viewer) -> None:
    charter = await facts.charter(session, charter_id)
    ensure_may_price(actor, charter.sales_agent_id)
    if charter.status not in OPEN_STATUSES:
        raise ServiceError.of(Code.QUOTE_CLOSED, "The charter is no longer a quote.", "charterId")


async def add(
    session: AsyncSession,
    charter_id: uuid.UUID,
    amenity_id: uuid.UUID,
    quantity: int,
    actor: Viewer,
) -> CharterAmenity:
    await _open_charter(session, charter_id, actor)
    if not 1 <= quantity <= MAX_QUANTITY:
        raise ServiceError.of(Code.OUT_OF_RANGE, f"A quantity of 1 to {MAX_QUANTITY}.", "quantity")
    amenity = await session.get(Amenity, amenity_id)
    if amenity is None or not amenity.active:
        raise ServiceError.of(Code.NOT_FOUND, "No such amenity is offered.", "amenityId")
    stmt = insert(CharterAmenity).values(
        id=uuid.uuid4(),
        charter_id=charter_id,
        amenity_id=amenity.id,
        name=amenity.name,
        pricing_type=amenity.pricing_type,
        unit_price=amenity.price,
        quantity=quantity,
        added_by=actor.user_id,
    )
    # Adding it again sets the quantity; the price it was first given stays.
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["charter_id", "amenity_id"], set_={"quantity": stmt.excluded.quantity}
        )
    )
    row = await session.scalar(
        select(CharterAmenity)
        .where(CharterAmenity.charter_id == charter_id, CharterAmenity.amenity_id == amenity_id)
        .execution_options(populate_existing=True)
    )
    assert row is not None  # noqa: S101 - written just above in this transaction
    return row


async def remove(
    session: AsyncSession, charter_id: uuid.UUID, amenity_id: uuid.UUID, actor: Viewer
) -> bool:
    await _open_charter(session, charter_id, actor)
    gone = await session.scalar(
        delete(CharterAmenity)
        .where(CharterAmenity.charter_id == charter_id, CharterAmenity.amenity_id == amenity_id)
        .returning(CharterAmenity.id)
    )
    return gone is not None
