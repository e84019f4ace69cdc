"""The vendor audit log: every change to a vendor and its compliance."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from subgraphs.kit import auditing
from subgraphs.vendors.models import VendorAudit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

row_snapshot = auditing.row_snapshot


def record(
    session: AsyncSession,
    *,
    vendor_id: uuid.UUID,
    entity: str,
    entity_id: uuid.UUID,
    action: str,
    actor: Viewer | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Store one change; the actor and, when it acts as someone else, the real person.

    `impersonator_id` is the staff member behind an impersonated session
    (the token's `act.sub`), so the trail never shows only the subject.
    """
    row = auditing.audit_row(
        VendorAudit,
        actor,
        before,
        after,
        vendor_id=vendor_id,
        entity=entity,
        entity_id=entity_id,
        action=action,
    )
    if row is not None:
        session.add(row)
