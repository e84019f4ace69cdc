"""Charters' interim client registry (see service/directory.py)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from subgraphs.charters.mutations.inputs import parse_id
from subgraphs.charters.service import directory
from subgraphs.charters.service.access import CLIENT_REGISTRARS
from subgraphs.charters.types import Client, gid
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow


@strawberry.type
class RegisterClientPayload:
    client: Client | None = None
    name: str | None = strawberry.field(default=None, description="The registered name.")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ClientMutations:
    @strawberry.mutation(
        extensions=[allow(*CLIENT_REGISTRARS)],
        description=(
            "Register a client company so that charters can be quoted for it. Interim: "
            "once the sales subgraph owns clients, charters checks them there instead. "
            "Registering a known client again changes nothing."
        ),
    )
    async def register_client(
        self, info: Info, id: strawberry.ID, name: str
    ) -> RegisterClientPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info,
            lambda s: directory.register_client(s, parse_id(id, "id"), name, viewer),
        )
        if row is None:
            return RegisterClientPayload(user_errors=errors)
        return RegisterClientPayload(client=Client(id=gid(row.id)), name=row.name)
