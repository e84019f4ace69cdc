"""A page of charters loads the children its selection asks for once, for the whole page.

Resolved per parent, `Charter.stops`, `Charter.vehicles` and
`CharterVehicle.vehicleType` each cost a coroutine (and graphql-core's
awaiting of it) for every charter or vehicle of the page, although the
dataloader answers them all with one statement. Where the page is resolved,
the selection says which of them are wanted: they are loaded there through
the same dataloaders (`load_now`: the same statements, and the values land in
the same cache), and each node gets them, so those fields resolve as plain calls.

Only speed depends on this: a field whose children were not preloaded (a
selection this walk does not see, another path to the charter) loads them
through its dataloader as before. Reading is still decided field by field by
the field policy; preloading reads nothing the dataloaders would not.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from subgraphs.charters import loaders as L
from subgraphs.kit.selections import child_fields, included_fields


@dataclass(slots=True)
class Preloaded:
    """The children of one page's charters, by charter id (vehicle types by id)."""

    stops: dict[uuid.UUID, list[Any]] | None = None
    vehicles: dict[uuid.UUID, list[Any]] | None = None
    vehicle_types: dict[uuid.UUID, Any] | None = None


@dataclass(slots=True)
class Wanted:
    stops: bool = False
    vehicles: bool = False
    vehicle_type: bool = False

    def __bool__(self) -> bool:
        return self.stops or self.vehicles


def wanted_by_page(raw_info: Any) -> Wanted:
    """What the connection field being resolved selects under `edges { node { ... } }`."""
    edges = child_fields(raw_info.field_nodes, "edges", raw_info)
    nodes = child_fields(edges, "node", raw_info)
    wanted = Wanted()
    for field in (f for node in nodes for f in included_fields(node.selection_set, raw_info)):
        name = field.name.value
        if name == "stops":
            wanted.stops = True
        elif name == "vehicles":
            wanted.vehicles = True
            if child_fields([field], "vehicleType", raw_info):
                wanted.vehicle_type = True
    return wanted


async def preload(info: Any, charter_ids: Sequence[uuid.UUID], wanted: Wanted) -> Preloaded:
    """Loads what `wanted` names for these charters: one batch per dataloader."""
    loaders = info.context.loaders

    async def children(loader: type[L.ByParentIdLoader[Any]], asked: bool) -> list[Any] | None:
        return await loaders.get(loader).load_now(charter_ids) if asked else None

    # The stops' and the vehicles' batches run side by side, as the per-parent loads did.
    stops, vehicles = await asyncio.gather(
        children(L.StopsByCharterIdLoader, wanted.stops),
        children(L.VehiclesByCharterIdLoader, wanted.vehicles),
    )
    done = Preloaded()
    if stops is not None:
        done.stops = dict(zip(charter_ids, stops, strict=True))
    if vehicles is not None:
        done.vehicles = dict(zip(charter_ids, vehicles, strict=True))
        if wanted.vehicle_type:
            type_ids = list({v.vehicle_type_id for rows in done.vehicles.values() for v in rows})
            if type_ids:
                types = await loaders.get(L.VehicleTypeByIdLoader).load_now(type_ids)
                done.vehicle_types = dict(zip(type_ids, types, strict=True))
            else:
                done.vehicle_types = {}
    return done
