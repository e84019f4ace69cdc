"""A sales agent lists its own charters (issue 16, seed 001 §5); the office lists all.

The rule is `access.LIST_ANY_CHARTER` / `LIST_OWN_CHARTERS`: tested as data
for each role (and an agent who also dispatches), then over HTTP: the agent's
`charters` holds only what it sells, filters narrow within that, a manager's
holds everything, and `charter(id)` of a colleague's charter stays readable
to the agent (read, not edit: see access.py).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.charters.service.access import charter_list_agent
from subgraphs.kit.errors import ServiceError
from tests.charters.ops import book, nodes

LIST = """query($where: CharterFilter) { charters(first: 50, where: $where) {
  totalCount edges { node { id } } } }"""
READ = "query($id: ID!) { charter(id: $id) { id reference salesAgent { id } } }"


def viewer(*roles: Role) -> Viewer:
    return Viewer(user_id=uuid.uuid4(), roles=frozenset(roles))


@pytest.mark.parametrize(
    "roles",
    [
        (Role.ADMIN,),
        (Role.MANAGER,),
        (Role.SALES_SUPPORT,),
        (Role.DISPATCHER,),
        (Role.ACCOUNTING,),
        (Role.SALES_AGENT, Role.DISPATCHER),
    ],
)
def test_the_office_lists_every_charter(roles: tuple[Role, ...]) -> None:
    assert charter_list_agent(viewer(*roles)) is None


def test_an_agent_lists_its_own_and_others_list_nothing() -> None:
    agent = viewer(Role.SALES_AGENT)

    assert charter_list_agent(agent) == agent.user_id
    with pytest.raises(ServiceError):
        charter_list_agent(viewer(Role.CLIENT))


async def test_an_agent_lists_only_the_charters_it_sells_a_manager_lists_all(
    staff: Any, as_role: Any, bookable_charter: Any
) -> None:
    me, colleague = uuid.uuid4(), uuid.uuid4()
    mine = await bookable_charter(salesAgentId=str(me))
    mine_booked = await bookable_charter(salesAgentId=str(me))
    await book(staff, mine_booked["id"])
    theirs = await bookable_charter(salesAgentId=str(colleague))
    nobodys = await bookable_charter()
    agent = await as_role("sales_agent", user_id=me)

    listed = (await agent(LIST)).ok()["charters"]
    booked_only = (await agent(LIST, {"where": {"status": ["BOOKED"]}})).ok()["charters"]
    asked_for_colleague = (await agent(LIST, {"where": {"agentId": str(colleague)}})).ok()
    everything = (await staff(LIST)).ok()["charters"]
    colleagues_charter = (await agent(READ, {"id": theirs["id"]})).ok()["charter"]

    assert {n["id"] for n in nodes(listed)} == {mine["id"], mine_booked["id"]}
    assert listed["totalCount"] == 2
    assert [n["id"] for n in nodes(booked_only)] == [mine_booked["id"]]
    assert asked_for_colleague["charters"]["totalCount"] == 0
    assert {n["id"] for n in nodes(everything)} == {
        mine["id"],
        mine_booked["id"],
        theirs["id"],
        nobodys["id"],
    }
    assert colleagues_charter["salesAgent"] == {"id": str(colleague)}
