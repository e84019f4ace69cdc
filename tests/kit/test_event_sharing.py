"""A subscription event is executed once per distinct reader, not once per listener.

The kit's schema runs `SharedEventExecution`: listeners of one event whose
payload carries an `EventShare` get one execution per (operation,
variables, viewer, variant). The resolver below counts its calls; a reader
never receives another reader's answer.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry.types import Info

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.kit.event_sharing import EventShare
from subgraphs.kit.schema import build_schema

CALLS: list[uuid.UUID | None] = []
#: one answers dict per event, as a process's event stream keeps it
EVENTS: dict[int, dict[Any, Any]] = {}


@strawberry.type
class Seen:
    event: int
    variant: int
    _share: strawberry.Private[EventShare | None] = None

    @strawberry.field
    async def reader(self, info: Info) -> str:
        viewer = info.context.known_viewer
        CALLS.append(viewer.user_id)
        await asyncio.sleep(0)  # an answer still being computed when the next listener asks
        return f"{viewer.user_id}:{self.event}:{self.variant}"


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def seen(
        self, number: int, variant: int = 0, shared: bool = True
    ) -> AsyncGenerator[Seen]:
        share = EventShare(EVENTS.setdefault(number, {}), variant) if shared else None
        yield Seen(event=number, variant=variant, _share=share)


SCHEMA = build_schema(Query, subscription=Subscription)
SUBSCRIPTION = "subscription($e: Int!, $v: Int!, $s: Boolean!) { seen(number: $e, variant: $v, shared: $s) { reader } }"


class _Context:
    def __init__(self, viewer: Viewer) -> None:
        self.known_viewer = viewer


async def _answers(viewer: Viewer, event: int, variant: int = 0, shared: bool = True) -> str:
    stream = await SCHEMA.subscribe(
        SUBSCRIPTION, {"e": event, "v": variant, "s": shared}, context_value=_Context(viewer)
    )
    async for result in stream:  # type: ignore[union-attr]
        assert result.errors is None, result.errors
        return str(result.data["seen"]["reader"])
    raise AssertionError("no event")


def _viewer() -> Viewer:
    return Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.DISPATCHER}), session_id=uuid.uuid4())


async def test_listeners_of_one_event_share_an_execution_per_reader() -> None:
    CALLS.clear()
    alice, bob = _viewer(), _viewer()
    # alice on another device: another session, same person and roles
    alice_again = Viewer(user_id=alice.user_id, roles=alice.roles, session_id=uuid.uuid4())
    answers = await asyncio.gather(
        *[_answers(alice, 1) for _ in range(5)], _answers(alice_again, 1), _answers(bob, 1)
    )
    assert answers == [f"{alice.user_id}:1:0"] * 6 + [f"{bob.user_id}:1:0"]
    assert sorted(map(str, CALLS)) == sorted([str(alice.user_id), str(bob.user_id)])


async def test_another_event_or_variant_is_executed_anew() -> None:
    CALLS.clear()
    alice = _viewer()
    answers = [
        await _answers(alice, 2),
        await _answers(alice, 2),
        await _answers(alice, 2, variant=1),
        await _answers(alice, 3),
    ]
    assert answers == [f"{alice.user_id}:{e}:{v}" for e, v in ((2, 0), (2, 0), (2, 1), (3, 0))]
    assert len(CALLS) == 3


async def test_a_payload_without_a_share_is_executed_per_listener() -> None:
    CALLS.clear()
    alice = _viewer()
    await asyncio.gather(*[_answers(alice, 4, shared=False) for _ in range(3)])
    assert len(CALLS) == 3


async def test_other_roles_of_the_same_user_are_another_reader() -> None:
    CALLS.clear()
    alice = _viewer()
    manager = Viewer(user_id=alice.user_id, roles=frozenset({Role.MANAGER}))
    answers = await asyncio.gather(_answers(alice, 5), _answers(manager, 5))
    assert answers == [f"{alice.user_id}:5:0"] * 2
    assert len(CALLS) == 2
