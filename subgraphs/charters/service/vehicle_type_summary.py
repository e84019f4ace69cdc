"""`Charter.vehicleTypeSummary` (issue 16 §2): a charter's vehicle types in one cell.

Reports show a charter per row; its vehicles are a list a table cannot hold,
so the row carries their distinct type names, sorted, joined by " + "
("Coach + Minibus"), or nothing when the charter has no vehicle yet.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select

from subgraphs.charters.models import CharterVehicle, VehicleType

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

SEPARATOR = " + "


def summary(names: Sequence[str]) -> str | None:
    return SEPARATOR.join(sorted(set(names))) or None


async def vehicle_type_summaries(
    session: AsyncSession, charter_ids: Sequence[uuid.UUID]
) -> list[str | None]:
    """One statement for many charters, in the order asked."""
    rows = await session.execute(
        select(CharterVehicle.charter_id, VehicleType.name)
        .distinct()
        .join(VehicleType, VehicleType.id == CharterVehicle.vehicle_type_id)
        .where(CharterVehicle.charter_id.in_(set(charter_ids)))
    )
    names: dict[uuid.UUID, list[str]] = defaultdict(list)
    for charter_id, name in rows.all():
        names[charter_id].append(name)
    return [summary(names.get(key, [])) for key in charter_ids]
