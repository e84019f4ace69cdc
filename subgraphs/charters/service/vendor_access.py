"""Vendors' facts charters needs to decide vendor reads, kept from vendors' events.

Charters cannot read vendors' tables: vendors announces which vendors may
read a charter and why (`vendors.charter_access_changed`, the whole set of
one charter each time), and which vendor each vendor account works for
(`vendors.vendor_user_linked`). Handlers are idempotent: an access set
computed earlier than the one held changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert

from subgraphs.charters.models import VendorAccessVersion, VendorAccount, VendorCharterAccess
from subgraphs.charters.service.visibility import VENDOR_REASONS

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

ACCESS_CHANGED = "vendors.charter_access_changed"
VENDOR_USER_LINKED = "vendors.vendor_user_linked"


async def apply_access_event(session: AsyncSession, event: dict[str, Any]) -> None:
    payload = event.get("payload") or {}
    if "charterId" not in payload or "asOf" not in payload:
        return
    charter_id = uuid.UUID(payload["charterId"])
    as_of = datetime.fromisoformat(payload["asOf"])
    stmt = insert(VendorAccessVersion).values(charter_id=charter_id, as_of=as_of)
    stmt = stmt.on_conflict_do_update(
        index_elements=[VendorAccessVersion.charter_id],
        set_={"as_of": as_of},
        where=VendorAccessVersion.as_of < as_of,
    )
    if (await session.execute(stmt.returning(VendorAccessVersion.charter_id))).scalar() is None:
        return  # computed before the set we hold
    await session.execute(
        delete(VendorCharterAccess).where(VendorCharterAccess.charter_id == charter_id)
    )
    for entry in payload.get("vendors") or []:
        reasons = [r for r in entry.get("reasons") or [] if r in VENDOR_REASONS]
        if reasons:
            await session.execute(
                insert(VendorCharterAccess).values(
                    charter_id=charter_id, vendor_id=uuid.UUID(entry["vendorId"]), reasons=reasons
                )
            )


async def apply_vendor_user_event(session: AsyncSession, event: dict[str, Any]) -> None:
    payload = event.get("payload") or {}
    if "userId" not in payload or "vendorId" not in payload:
        return
    values = {"vendor_id": uuid.UUID(payload["vendorId"])}
    await session.execute(
        insert(VendorAccount)
        .values(user_id=uuid.UUID(payload["userId"]), **values)
        .on_conflict_do_update(index_elements=[VendorAccount.user_id], set_=values)
    )
