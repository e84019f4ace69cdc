"""A vendor's portal list of its assignments: pending an answer, upcoming, past.

Pending: offered and waiting for the vendor's answer. Upcoming: accepted
(confirmed, a recovery asked, or under way) with the trip not over. Past:
completed, or the trip's pickup gone by. Declined and cancelled
assignments are in none (the vendor no longer serves them).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, and_, or_, select

from subgraphs.vendors.models import CharterFacts, VendorAssignment


class Window(StrEnum):
    PENDING = "pending"
    UPCOMING = "upcoming"
    PAST = "past"


ACCEPTED = ("confirmed", "recovery_requested", "in_progress")


def assignments_of(vendor_id: uuid.UUID, window: Window, now: datetime) -> Select[Any]:
    pickup = (
        select(CharterFacts.pickup_at)
        .where(CharterFacts.charter_id == VendorAssignment.charter_id)
        .scalar_subquery()
    )
    stmt = select(VendorAssignment).where(VendorAssignment.vendor_id == vendor_id)
    if window is Window.PENDING:
        return stmt.where(VendorAssignment.status == "offered")
    if window is Window.UPCOMING:
        return stmt.where(
            or_(
                VendorAssignment.status == "in_progress",
                and_(VendorAssignment.status.in_(ACCEPTED), pickup >= now),
            )
        )
    return stmt.where(
        or_(
            VendorAssignment.status == "completed",
            and_(VendorAssignment.status.in_(("confirmed", "recovery_requested")), pickup < now),
        )
    )
