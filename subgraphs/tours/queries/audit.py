"""Reading the tours audit log (staff): a tour's history, an entity's, or everything's."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from subgraphs.kit.errors import BadUserInputError
from subgraphs.kit.ids import require_uuid
from subgraphs.kit.permissions import allow
from subgraphs.tours.service import audit
from subgraphs.tours.service.access import READ_OPERATIONS
from subgraphs.tours.types.audit import TourAuditEntry


@strawberry.type
class AuditQueries:
    @strawberry.field(
        extensions=[allow(*READ_OPERATIONS)],
        description="Changes to the catalogue and waitlist entries, newest first (staff): "
        f"filtered by tour, entity ({', '.join(audit.ENTITIES)}) and entity id; "
        f"`first` from 1 to {audit.MAX_READ}.",
    )
    async def tour_audit_log(
        self,
        info: Info,
        tour_id: strawberry.ID | None = None,
        entity: str | None = None,
        entity_id: strawberry.ID | None = None,
        first: int | None = 50,
    ) -> list[TourAuditEntry]:
        first = 50 if first is None else first
        if not 1 <= first <= audit.MAX_READ:
            raise BadUserInputError(f"`first` is 1 to {audit.MAX_READ}.", field="first")
        if entity is not None and entity not in audit.ENTITIES:
            raise BadUserInputError(
                f"`entity` is one of {', '.join(audit.ENTITIES)}.", field="entity"
            )
        async with info.context.sessions() as session:
            rows = await audit.entries(
                session,
                tour_id=require_uuid(tour_id, "Tour") if tour_id is not None else None,
                entity=entity,
                entity_id=require_uuid(entity_id, "entity") if entity_id is not None else None,
                first=first,
            )
        return [TourAuditEntry.from_row(r) for r in rows]
