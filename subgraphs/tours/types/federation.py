"""Other subgraphs' entities tours points at: the charter that operates a departure.

Charters owns `Charter`; tours only knows its id (`departure_slots.charter_id`,
kept by `service/charter_facts.py`), so the type here is a stub the router
completes from charters. Tours resolves no charter itself (`resolvable:
false`).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import strawberry
from strawberry.federation.schema_directives import Key
from strawberry.federation.types import FieldSet

from subgraphs.tours.service.access import READ_OPERATIONS

if TYPE_CHECKING:
    from strawberry.types import Info


@strawberry.federation.type(
    keys=[Key(fields=FieldSet("id"), resolvable=False)],
    description="A charter, owned by the charters subgraph (the shuttle operating a departure).",
)
class Charter:
    id: strawberry.ID


async def charter_of(info: Info, charter_id: uuid.UUID | None) -> Charter | None:
    """A departure's charter for tour staff; null for everyone else and before charters made it.

    Null rather than FORBIDDEN: customers read departures too, and whether a
    coach has been arranged is the operator's business, not an error of theirs.
    """
    if charter_id is None:
        return None
    viewer = await info.context.get_viewer()
    if not viewer.has_any_role(*READ_OPERATIONS):
        return None
    return Charter(id=strawberry.ID(str(charter_id)))
