"""Reading the catalogue: anyone reads active tours, departures, blackouts and the rules.

Staff (`READ_OPERATIONS`) also see inactive tours and blackouts; for anyone
else an inactive tour does not exist (null), and asking for inactive ones
is FORBIDDEN rather than silently ignored.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from subgraphs.kit.errors import ForbiddenError
from subgraphs.kit.ids import parse_uuid, require_uuid
from subgraphs.tours import loaders as L
from subgraphs.tours.service import blackouts, config, tours
from subgraphs.tours.service.access import READ_OPERATIONS
from subgraphs.tours.types.catalogue import DepartureSlot, Tour, TourBlackout, ToursConfig


async def _staff(info: Info) -> bool:
    viewer = await info.context.get_viewer()
    return bool(viewer.has_any_role(*READ_OPERATIONS))


@strawberry.type
class CatalogueQueries:
    @strawberry.field(
        description="Tours by name; inactive ones too when asked (staff only, else FORBIDDEN)."
    )
    async def tours(self, info: Info, include_inactive: bool = False) -> list[Tour]:
        if include_inactive and not await _staff(info):
            raise ForbiddenError("Only staff see inactive tours.")
        async with info.context.sessions() as session:
            rows = await tours.listed(session, include_inactive=include_inactive)
        return [Tour.from_row(r) for r in rows]

    @strawberry.field(description="A tour; an inactive one is null except for staff.")
    async def tour(self, info: Info, id: strawberry.ID) -> Tour | None:
        key = parse_uuid(id)
        row = await info.context.loaders.get(L.TourByIdLoader).load(key) if key else None
        if row is None or (not row.active and not await _staff(info)):
            return None
        return Tour.from_row(row)

    @strawberry.field(description="A departure by id.")
    async def departure_slot(self, info: Info, id: strawberry.ID) -> DepartureSlot | None:
        key = parse_uuid(id)
        row = await info.context.loaders.get(L.DepartureSlotByIdLoader).load(key) if key else None
        return DepartureSlot.from_row(row) if row is not None else None

    @strawberry.field(
        description="Blackouts overlapping `from`..`to` (either may be left out); a tour's "
        "list includes the global ones. Inactive ones too when asked (staff only)."
    )
    async def tour_blackouts(
        self,
        info: Info,
        tour_id: strawberry.ID | None = None,
        from_: Annotated[date | None, strawberry.argument(name="from")] = None,
        to: date | None = None,
        include_inactive: bool = False,
    ) -> list[TourBlackout]:
        if include_inactive and not await _staff(info):
            raise ForbiddenError("Only staff see inactive blackouts.")
        tour_key = require_uuid(tour_id, "Tour") if tour_id is not None else None
        async with info.context.sessions() as session:
            rows = await blackouts.listed(
                session, tour_key, from_, to, include_inactive=include_inactive
            )
        return [TourBlackout.from_row(r) for r in rows]

    @strawberry.field(description="The booking rules (cutoff, days ahead, party sizes, rates).")
    async def tours_config(self, info: Info) -> ToursConfig:
        async with info.context.sessions() as session, session.begin():
            # get-or-create: an emptied table gets the defaults back, hence a transaction
            return ToursConfig.from_row(await config.get_config(session))
