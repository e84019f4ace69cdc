"""The pre-trip checklist: items managers configure, each ticked once per trip by its driver.

Managers set the whole list at once (`set_items`): the items named, in that
order, are the active checklist; items left out are deactivated, never
deleted, so a trip's completed items keep pointing at what the driver saw.
A driver completes an active item for its own trip once (who and when are
kept); the dispatch board hears of it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import ChecklistCompletion, ChecklistItem, outbox
from subgraphs.charters.service import audit, events
from subgraphs.charters.service.access import CHECKLIST_EDITORS, ensure_role
from subgraphs.charters.service.driver_trips import assigned_trip
from subgraphs.charters.service.timing import now as utc_now
from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.kit.outbox import emit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

LABEL_MAX = 200
#: A checklist a driver runs through before every trip: short by nature.
MAX_ITEMS = 50
CHECKLIST_CHANGED = "charters.checklist_changed"


@dataclass(frozen=True)
class ItemSpec:
    """One wanted item: an existing one (`id`, relabelled) or a new one (no id)."""

    label: str
    id: uuid.UUID | None = None


async def set_items(
    session: AsyncSession, items: Sequence[ItemSpec], actor: Viewer
) -> list[ChecklistItem]:
    """Make `items`, in order, the active checklist; the rest are deactivated."""
    ensure_role(actor, CHECKLIST_EDITORS, "configure the pre-trip checklist")
    problems: list[Problem] = []
    if len(items) > MAX_ITEMS:
        problems.append(Problem(Code.OUT_OF_RANGE, f"At most {MAX_ITEMS} items.", "items"))
    labels = [(spec.label or "").strip() for spec in items]
    for label in labels:
        if not label:
            problems.append(Problem(Code.REQUIRED, "Every item needs a label.", "items"))
        elif len(label) > LABEL_MAX:
            problems.append(Problem(Code.TOO_LONG, f"At most {LABEL_MAX} characters.", "items"))
    if len({label.casefold() for label in labels}) != len(labels):
        problems.append(Problem(Code.CONFLICT, "Two items have the same label.", "items"))
    existing = {
        row.id: row for row in await session.scalars(select(ChecklistItem).with_for_update())
    }
    ids = [spec.id for spec in items if spec.id is not None]
    if any(i not in existing for i in ids) or len(set(ids)) != len(ids):
        problems.append(Problem(Code.NOT_FOUND, "An item id is unknown or repeated.", "items"))
    if problems:
        raise ServiceError(problems)
    before = {str(row.id): audit.row_snapshot(row) for row in existing.values() if row.active}
    kept: list[ChecklistItem] = []
    for position, (spec, label) in enumerate(zip(items, labels, strict=True), start=1):
        row = existing.get(spec.id) if spec.id is not None else None
        if row is None:
            row = ChecklistItem(id=uuid.uuid4(), created_by=actor.user_id)
            session.add(row)
        row.label, row.position, row.active = label, position, True
        kept.append(row)
    kept_ids = {row.id for row in kept}
    for row in existing.values():
        if row.id not in kept_ids:
            row.active = False
    await session.flush()
    # The audit log is per charter; the checklist belongs to none, so its
    # changes are recorded as an event with who and what (see the report).
    await emit(
        session,
        outbox,
        CHECKLIST_CHANGED,
        {
            "actorId": str(actor.user_id) if actor.user_id else None,
            "before": list(before.values()),
            "after": [audit.row_snapshot(row) for row in kept],
        },
    )
    return kept


async def complete_item(
    session: AsyncSession, trip_id: uuid.UUID, item_id: uuid.UUID, actor: Viewer
) -> ChecklistCompletion:
    """The trip's driver ticks one active item, once."""
    trip = await assigned_trip(session, trip_id, actor, "tripId")
    if trip.row.trip_completed_at is not None:
        raise ServiceError.of(Code.INVALID_TRANSITION, "The trip is already completed.", "tripId")
    item = await session.get(ChecklistItem, item_id)
    if item is None or not item.active:
        raise ServiceError.of(Code.NOT_FOUND, "No such checklist item.", "itemId")
    done = await session.get(ChecklistCompletion, (trip.row.id, item.id))
    if done is not None:
        raise ServiceError.of(Code.CONFLICT, f"“{item.label}” is already done.", "itemId")
    completion = ChecklistCompletion(
        charter_vehicle_id=trip.row.id,
        item_id=item.id,
        completed_by=actor.user_id,
        completed_at=utc_now(),
    )
    session.add(completion)
    await session.flush()
    audit.record(
        session,
        charter_id=trip.charter.id,
        entity="checklist_completion",
        entity_id=item.id,
        action="trip:checklist",
        actor=actor,
        old=None,
        new={**audit.row_snapshot(completion), "label": item.label},
    )
    await events.charter_changed(
        session,
        trip.charter,
        ["trip", "checklist"],
        charterVehicleId=str(trip.row.id),
        checklistItemId=str(item.id),
    )
    return completion
