"""Special instructions: add, edit, remove (see service/instructions.py for the rules)."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from subgraphs.charters.mutations.inputs import parse_id
from subgraphs.charters.service import instructions
from subgraphs.charters.service.access import INSTRUCTION_WRITERS
from subgraphs.charters.types import InstructionKind, InstructionPriority, SpecialInstruction
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow


@strawberry.input
class SpecialInstructionInput:
    kind: InstructionKind
    text: str = strawberry.field(description="1 to 2000 characters.")
    priority: InstructionPriority = InstructionPriority.NORMAL
    visible_to_driver: bool = False
    visible_to_vendor: bool = False


@strawberry.input(description="Only the fields given change.")
class SpecialInstructionPatch:
    kind: InstructionKind | None = None
    text: str | None = None
    priority: InstructionPriority | None = None
    visible_to_driver: bool | None = None
    visible_to_vendor: bool | None = None


@strawberry.type
class SpecialInstructionPayload:
    special_instruction: SpecialInstruction | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


WHO = (
    "Dispatch for any charter, sales staff as for any edit of it (a sales agent its own). "
    "Audited; announced on `dispatchBoard` (change `instructions`)."
)


async def _call(info: Info, work: Any) -> SpecialInstructionPayload:
    viewer = await info.context.get_viewer()
    row, errors = await transact(info, lambda session: work(session, viewer))
    return SpecialInstructionPayload(
        special_instruction=SpecialInstruction.from_row(row) if row else None,
        user_errors=errors,
    )


@strawberry.type
class InstructionMutations:
    @strawberry.mutation(
        extensions=[allow(*INSTRUCTION_WRITERS)],
        description=f"Add a special instruction to a charter. {WHO}",
    )
    async def add_special_instruction(
        self, info: Info, charter_id: strawberry.ID, input: SpecialInstructionInput
    ) -> SpecialInstructionPayload:
        async def work(session: AsyncSession, viewer: Any) -> Any:
            values = instructions.InstructionValues(
                kind=input.kind.value,
                priority=input.priority.value,
                text=input.text,
                visible_to_driver=input.visible_to_driver,
                visible_to_vendor=input.visible_to_vendor,
            )
            return await instructions.add(
                session, parse_id(charter_id, "charterId"), values, viewer
            )

        return await _call(info, work)

    @strawberry.mutation(
        extensions=[allow(*INSTRUCTION_WRITERS)],
        description=f"Change a special instruction. {WHO}",
    )
    async def update_special_instruction(
        self, info: Info, id: strawberry.ID, input: SpecialInstructionPatch
    ) -> SpecialInstructionPayload:
        async def work(session: AsyncSession, viewer: Any) -> Any:
            values = instructions.InstructionValues(
                kind=input.kind.value if input.kind else None,
                priority=input.priority.value if input.priority else None,
                text=input.text,
                visible_to_driver=input.visible_to_driver,
                visible_to_vendor=input.visible_to_vendor,
            )
            return await instructions.update(session, parse_id(id, "id"), values, viewer)

        return await _call(info, work)

    @strawberry.mutation(
        extensions=[allow(*INSTRUCTION_WRITERS)],
        description=(
            f"Remove a special instruction: it leaves every list; the audit log keeps it. {WHO}"
        ),
    )
    async def remove_special_instruction(
        self, info: Info, id: strawberry.ID
    ) -> SpecialInstructionPayload:
        async def work(session: AsyncSession, viewer: Any) -> Any:
            return await instructions.remove(session, parse_id(id, "id"), viewer)

        return await _call(info, work)
