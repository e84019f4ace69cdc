"""Special instructions: structured notes for the people who run a charter.

Seed 001 section 8 replaces the free-text notes with typed instructions
(pickup, drop-off, route notes, passenger requirements, equipment, safety),
each with a priority and two flags saying whether it reaches the driver app
and the vendor portal. Staff read every live instruction; a driver or a
vendor only those marked for it; a client none (the field gate refuses the
field itself, `visibility.FIELDS`). Visibility is per row, so it is decided
here (`visible_to`), never by a resolver of its own.

Removal is soft (`removed_at`): a removed instruction leaves every reader's
list but stays in the audit log with its text. Critical instructions come
first so that nobody scrolls past a safety note, then important, then
normal; each in creation order.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import (
    INSTRUCTION_KINDS,
    INSTRUCTION_PRIORITIES,
    Charter,
    SpecialInstruction,
)
from subgraphs.charters.service import audit, events
from subgraphs.charters.service.access import (
    DISPATCH,
    INSTRUCTION_WRITERS,
    ensure_can_edit,
    ensure_role,
)
from subgraphs.charters.service.timing import now
from subgraphs.charters.service.visibility import Audience
from subgraphs.kit.errors import Problem, ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

#: The column's size.
TEXT_MAX = 2000
#: Live instructions a charter may hold: keeps `Charter.specialInstructions` a bounded list.
MAX_PER_CHARTER = 50
#: Charters whose instructions are still worth changing (the trip has not ended).
EDITABLE_STATUSES = frozenset({"quote", "booked", "confirmed", "in_progress"})


@dataclass(frozen=True)
class InstructionValues:
    """An instruction's content; on an update, None leaves a value as it is."""

    kind: str | None = None
    priority: str | None = None
    text: str | None = None
    visible_to_driver: bool | None = None
    visible_to_vendor: bool | None = None


def value_problems(values: InstructionValues, *, creating: bool) -> list[Problem]:
    problems = []
    if values.kind is None and creating:
        problems.append(Problem(Code.REQUIRED, "An instruction needs a kind.", "kind"))
    elif values.kind is not None and values.kind not in INSTRUCTION_KINDS:
        problems.append(Problem(Code.INVALID, f"Unknown kind {values.kind!r}.", "kind"))
    if values.priority is not None and values.priority not in INSTRUCTION_PRIORITIES:
        problems.append(Problem(Code.INVALID, f"Unknown priority {values.priority!r}.", "priority"))
    if values.text is not None or creating:
        text = (values.text or "").strip()
        if not text:
            problems.append(Problem(Code.REQUIRED, "An instruction needs a text.", "text"))
        elif len(text) > TEXT_MAX:
            problems.append(Problem(Code.TOO_LONG, f"At most {TEXT_MAX} characters.", "text"))
    return problems


#: Reading order by priority: the driver app's trip detail uses the same one.
PRIORITY_RANK = {"critical": 0, "important": 1, "normal": 2}


def ordered(rows: Iterable[Any]) -> list[Any]:
    """Critical first, then important, then normal; each by creation (ties by id)."""
    return sorted(rows, key=lambda r: (PRIORITY_RANK.get(r.priority, 3), r.created_at, str(r.id)))


def visible_to(rows: Iterable[Any], audience: Audience | None) -> list[Any]:
    """The live instructions a reader of this audience may read, in reading order.

    `rows` are ORM rows or the loaders' plain rows: anything with the columns.
    """
    live = [r for r in rows if r.removed_at is None]
    if audience == Audience.STAFF:
        shown = live
    elif audience == Audience.DRIVER:
        shown = [r for r in live if r.visible_to_driver]
    elif audience == Audience.VENDOR:
        shown = [r for r in live if r.visible_to_vendor]
    else:
        shown = []
    return ordered(shown)


async def _editable_charter(
    session: AsyncSession, charter_id: uuid.UUID, actor: Viewer, field: str
) -> Charter:
    """The charter, locked; dispatch writes for any charter, sales staff as for any edit."""
    ensure_role(actor, INSTRUCTION_WRITERS, "write special instructions")
    charter = await session.scalar(
        select(Charter).where(Charter.id == charter_id).with_for_update()
    )
    if charter is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Charter {charter_id} does not exist.", field)
    if not actor.has_any_role(*DISPATCH):
        ensure_can_edit(actor, charter)
    if charter.status not in EDITABLE_STATUSES:
        raise ServiceError.of(
            Code.INVALID_TRANSITION,
            f"{charter.reference} is {charter.status}: its instructions can no longer change.",
            field,
        )
    return charter


async def _instruction(session: AsyncSession, instruction_id: uuid.UUID) -> SpecialInstruction:
    row = await session.scalar(
        select(SpecialInstruction).where(SpecialInstruction.id == instruction_id)
    )
    if row is None or row.removed_at is not None:
        raise ServiceError.of(Code.NOT_FOUND, f"Instruction {instruction_id} does not exist.", "id")
    return row


async def _announce(
    session: AsyncSession,
    charter: Charter,
    row: SpecialInstruction,
    action: str,
    actor: Viewer,
    old: dict[str, Any] | None,
) -> None:
    await session.flush()
    audit.record(
        session,
        charter_id=charter.id,
        entity="special_instruction",
        entity_id=row.id,
        action=action,
        actor=actor,
        old=old,
        new=audit.row_snapshot(row),
    )
    await events.charter_changed(
        session, charter, ["instructions"], specialInstructionId=str(row.id)
    )


async def add(
    session: AsyncSession, charter_id: uuid.UUID, values: InstructionValues, actor: Viewer
) -> SpecialInstruction:
    problems = value_problems(values, creating=True)
    if problems:
        raise ServiceError(problems)
    charter = await _editable_charter(session, charter_id, actor, "charterId")
    live = await session.scalar(
        select(func.count())
        .select_from(SpecialInstruction)
        .where(SpecialInstruction.charter_id == charter.id, SpecialInstruction.removed_at.is_(None))
    )
    if (live or 0) >= MAX_PER_CHARTER:
        raise ServiceError.of(
            Code.OUT_OF_RANGE,
            f"{charter.reference} already has {MAX_PER_CHARTER} instructions: remove one first.",
            "charterId",
        )
    row = SpecialInstruction(
        id=uuid.uuid4(),
        charter_id=charter.id,
        kind=values.kind,
        priority=values.priority or "normal",
        text=(values.text or "").strip(),
        visible_to_driver=bool(values.visible_to_driver),
        visible_to_vendor=bool(values.visible_to_vendor),
        created_by=actor.user_id,
    )
    session.add(row)
    await _announce(session, charter, row, "instruction:add", actor, None)
    return row


async def update(
    session: AsyncSession, instruction_id: uuid.UUID, values: InstructionValues, actor: Viewer
) -> SpecialInstruction:
    problems = value_problems(values, creating=False)
    if problems:
        raise ServiceError(problems)
    ensure_role(actor, INSTRUCTION_WRITERS, "write special instructions")
    row = await _instruction(session, instruction_id)
    charter = await _editable_charter(session, row.charter_id, actor, "id")
    old = audit.row_snapshot(row)
    if values.kind is not None:
        row.kind = values.kind
    if values.priority is not None:
        row.priority = values.priority
    if values.text is not None:
        row.text = values.text.strip()
    if values.visible_to_driver is not None:
        row.visible_to_driver = values.visible_to_driver
    if values.visible_to_vendor is not None:
        row.visible_to_vendor = values.visible_to_vendor
    # An update that changes nothing is neither audited nor announced.
    if audit.row_snapshot(row) != old:
        await _announce(session, charter, row, "instruction:update", actor, old)
    return row


async def remove(
    session: AsyncSession,
    instruction_id: uuid.UUID,
    actor: Viewer,
    *,
    at: datetime | None = None,
) -> SpecialInstruction:
    ensure_role(actor, INSTRUCTION_WRITERS, "write special instructions")
    row = await _instruction(session, instruction_id)
    charter = await _editable_charter(session, row.charter_id, actor, "id")
    old = audit.row_snapshot(row)
    row.removed_at = at or now()
    await _announce(session, charter, row, "instruction:remove", actor, old)
    return row
