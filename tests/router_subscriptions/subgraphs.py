"""Two tiny Strawberry federation subgraphs for subscriptions through the router.

`items` owns `Subscription.ticks`, which yields `Item` entities; `labels`
contributes `Item.label`, so every event needs an entity fetch to be
complete. `PROBE` records what the subgraphs saw: the Authorization of each
socket's connection_init, how many tick streams are open and closed, and
the entity calls to labels.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any

import strawberry
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types import Info


@dataclass
class Probe:
    authorizations: list[str | None] = field(default_factory=list)
    open_streams: int = 0
    closed_streams: int = 0
    label_calls: int = 0
    entity_headers: list[str | None] = field(default_factory=list)
    #: X-Forwarded-For of each entity call to labels
    entity_forwarded_for: list[str | None] = field(default_factory=list)

    def clear(self) -> None:
        self.authorizations.clear()
        self.open_streams = self.closed_streams = self.label_calls = 0
        self.entity_headers.clear()
        self.entity_forwarded_for.clear()


PROBE = Probe()

# -- items: owns the subscription ----------------------------------------------


@strawberry.federation.type(keys=["id"])
class Item:
    id: strawberry.ID
    name: str


@strawberry.type
class ItemsQuery:
    @strawberry.field
    def item(self, id: strawberry.ID) -> Item:
        return Item(id=id, name=f"item {id}")


@strawberry.type
class ItemsSubscription:
    @strawberry.subscription
    async def ticks(
        self, n: int, fail_at: int | None = None, delay: float = 0.0
    ) -> AsyncGenerator[Item, None]:
        PROBE.open_streams += 1
        try:
            for i in range(n):
                if i == fail_at:
                    raise ValueError(f"tick {i} failed")
                if delay:
                    await asyncio.sleep(delay)
                yield Item(id=strawberry.ID(f"i{i}"), name=f"item {i}")
        finally:
            PROBE.open_streams -= 1
            PROBE.closed_streams += 1


items_schema = strawberry.federation.Schema(
    query=ItemsQuery, subscription=ItemsSubscription, federation_version="2.9"
)


class ItemsApp(GraphQL[Any, Any]):
    async def on_ws_connect(self, context: Any) -> Any:
        params = context.get("connection_params") or {}
        auth = params.get("Authorization") if isinstance(params, dict) else None
        PROBE.authorizations.append(auth)
        if auth == "Bearer refused":
            raise ConnectionRejectionError({"reason": "bad token"})
        return await super().on_ws_connect(context)


# -- labels: completes Item ------------------------------------------------------


@strawberry.federation.type(keys=["id"], name="Item")
class LabelledItem:
    id: strawberry.ID

    @strawberry.field
    def label(self, info: Info) -> str:
        return f"label-{self.id}"

    @classmethod
    def resolve_reference(cls, info: Info, id: strawberry.ID) -> LabelledItem:
        PROBE.label_calls += 1
        PROBE.entity_headers.append(info.context["request"].headers.get("authorization"))
        PROBE.entity_forwarded_for.append(info.context["request"].headers.get("x-forwarded-for"))
        return cls(id=id)


@strawberry.type
class LabelsQuery:
    @strawberry.field
    def labels_ready(self) -> bool:
        return True


labels_schema = strawberry.federation.Schema(
    query=LabelsQuery, types=[LabelledItem], federation_version="2.9"
)


def items_app() -> ItemsApp:
    return ItemsApp(items_schema)


def labels_app() -> GraphQL[Any, Any]:
    return GraphQL(labels_schema)
