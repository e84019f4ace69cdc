"""Mutations for templates and cloning (see service/templates.py for the rules)."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from subgraphs.charters.mutations.inputs import parse_id
from subgraphs.charters.service import templates as template_service
from subgraphs.charters.service.access import EDITORS
from subgraphs.charters.types import Charter, gid
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow


@strawberry.type
class SaveTemplatePayload:
    template: Charter | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="One source vehicle and its copy on a clone.")
class ClonedVehicle:
    source_charter_vehicle_id: strawberry.ID
    charter_vehicle_id: strawberry.ID


@strawberry.type
class CharterClone:
    charter: Charter
    vehicles: list[ClonedVehicle] = strawberry.field(
        description=(
            "Source charter vehicle -> new charter vehicle, so the vendors subgraph can "
            "copy vendor assignments. Filled only when keepVendorAssignments is true. "
            "At most 50 (a charter's vehicles)."
        )
    )


@strawberry.type
class CloneCharterPayload:
    charters: list[Charter] = strawberry.field(
        default_factory=list,
        description="The new quotes, in the order of `dates`: at most 366 (one per date).",
    )
    clones: list[CharterClone] = strawberry.field(
        default_factory=list, description="One per new quote: at most 366."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TemplateMutations:
    @strawberry.mutation(
        extensions=[allow(*EDITORS)],
        description=(
            "Save a copy of a charter as a named template: stops and vehicles by type, "
            "capacity and cost; never the assigned vehicles or drivers."
        ),
    )
    async def save_charter_as_template(
        self, info: Info, charter_id: strawberry.ID, name: str
    ) -> SaveTemplatePayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info,
            lambda s: template_service.save_as_template(
                s, parse_id(charter_id, "charterId"), name, viewer
            ),
        )
        return SaveTemplatePayload(
            template=Charter.from_row(row) if row else None, user_errors=errors
        )

    @strawberry.mutation(
        extensions=[allow(*EDITORS)],
        description=(
            "Copy a charter or template to each date (at most 366) as new quotes, at the "
            "same local pickup time. All or nothing: one past, blacked-out or repeated "
            "date fails the whole call. Assigned vehicles and drivers are not copied; "
            "keepVendorAssignments returns, per clone, which vehicle was copied to which "
            "(and puts it in the clone's charter_changed event) for the vendors subgraph."
        ),
    )
    async def clone_charter(
        self,
        info: Info,
        source_id: strawberry.ID,
        dates: list[date],
        keep_vendor_assignments: bool = False,
    ) -> CloneCharterPayload:
        viewer = await info.context.get_viewer()

        async def work(session: AsyncSession) -> Any:
            return await template_service.clone(
                session,
                parse_id(source_id, "sourceId"),
                dates,
                viewer,
                keep_vendor_assignments=keep_vendor_assignments,
            )

        copies, errors = await transact(info, work)
        if copies is None:
            return CloneCharterPayload(user_errors=errors)
        clones = [
            CharterClone(
                charter=Charter.from_row(c.charter),
                vehicles=[
                    ClonedVehicle(source_charter_vehicle_id=gid(k), charter_vehicle_id=gid(v))
                    for k, v in c.vehicle_map.items()
                ]
                if keep_vendor_assignments
                else [],
            )
            for c in copies
        ]
        return CloneCharterPayload(charters=[c.charter for c in clones], clones=clones)
