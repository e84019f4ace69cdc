"""One entry of the tours audit log as staff read it (`tourAuditLog`)."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from subgraphs.tours.models import TourAudit
from subgraphs.tours.types.catalogue import gid


@strawberry.type(
    description="One change to the catalogue or a waitlist entry: what, who, before and after "
    "(only the fields that changed)."
)
class TourAuditEntry:
    id: strawberry.ID
    entity: str = strawberry.field(
        description="tour, schedule, departure, blackout, config or waitlist_entry."
    )
    action: str = strawberry.field(
        description="create, update, generate, cancel; for waitlist entries join, priority, "
        "offer, offer_withdrawn, expire, convert, cancel."
    )
    entity_id: strawberry.ID | None = strawberry.field(description="Null for the booking rules.")
    tour_id: strawberry.ID | None = strawberry.field(
        description="Null for global blackouts and the booking rules."
    )
    actor_id: strawberry.ID | None = strawberry.field(
        description="Who did it; null for the system (jobs, offers made and expired)."
    )
    impersonator_id: strawberry.ID | None = strawberry.field(
        description="The staff member acting as `actorId` (impersonation), if any."
    )
    before: JSON | None
    after: JSON | None
    at: datetime

    @classmethod
    def from_row(cls, row: TourAudit) -> TourAuditEntry:
        return cls(
            id=gid(row.id),
            entity=row.entity,
            action=row.action,
            entity_id=gid(row.entity_id) if row.entity_id else None,
            tour_id=gid(row.tour_id) if row.tour_id else None,
            actor_id=gid(row.actor_id) if row.actor_id else None,
            impersonator_id=gid(row.impersonator_id) if row.impersonator_id else None,
            before=cast("JSON | None", row.before),
            after=cast("JSON | None", row.after),
            at=row.at,
        )
