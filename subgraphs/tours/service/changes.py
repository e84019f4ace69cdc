"""The booking change log (issue 15 §2): who, what, from and to, why, and from where.

`Actor` is the caller as the log needs it: the viewer (None for the system:
a job), and the address and user agent the router forwarded. Mutations build
it once with `actor_of(info)`; service functions take it as a plain value.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from protocol.viewer import Viewer
from subgraphs.tours.models import BookingChange

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from strawberry.types import Info

    from subgraphs.tours.models import Booking

MAX_USER_AGENT = 500


@dataclass(frozen=True)
class Actor:
    viewer: Viewer = field(default_factory=Viewer)
    ip_address: str | None = None
    user_agent: str = ""

    @property
    def user_id(self) -> uuid.UUID | None:
        return self.viewer.user_id


#: Scheduled jobs and event consumers: no person, no address.
SYSTEM = Actor()


async def actor_of(info: Info) -> Actor:
    context = info.context
    return Actor(
        viewer=await context.get_viewer(),
        ip_address=context.client_ip or None,
        user_agent=(context.request.headers.get("user-agent") or "")[:MAX_USER_AGENT],
    )


async def record(
    session: AsyncSession,
    booking: Booking,
    change_type: str,
    actor: Actor,
    *,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    reason: str = "",
    amount_difference: Decimal | None = None,
) -> BookingChange:
    """One log row, in the transaction of the change it describes."""
    row = BookingChange(
        booking_id=booking.id,
        changed_by=actor.user_id,
        impersonator_id=actor.viewer.impersonator_id,
        change_type=change_type,
        old_value=old or {},
        new_value=new or {},
        reason=reason,
        amount_difference=amount_difference,
        ip_address=actor.ip_address,
        user_agent=actor.user_agent,
    )
    session.add(row)
    await session.flush()
    return row
