"""The round-robin under load: concurrent createLead calls over HTTP keep the rule exactly.

Every creation locks the queue rows in its own transaction, so 50 requests
at once are 50 steps of the same sequence: the split is the one
`service/assignment.py` documents, and a daily cap is never exceeded.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import select

from subgraphs.sales.models import Lead, LeadQueueEntry
from tests.sales.conftest import lead_input

SET = """mutation($input: LeadQueueEntryInput!) {
  setLeadQueueEntry(input: $input) { entry { position } userErrors { field code } } }"""
CREATE = """mutation($input: CreateLeadInput!) {
  createLead(input: $input) { lead { id assignmentMethod agent { id } } userErrors { code } } }"""
UNASSIGNED = "{ unassignedLeads(first: 50) { totalCount } }"

pytestmark = pytest.mark.slow


async def queue_of_three(sales_as, known_agent, cap=None):
    a, b, c = [await known_agent() for _ in range(3)]
    manager = await sales_as("manager")
    for position, (agent, weight) in enumerate(((a, 1), (b, 1), (c, 2)), start=1):
        entry = {"agentId": str(agent), "position": position, "weight": weight}
        if cap is not None:
            entry["maxLeadsPerDay"] = cap
        done = (await manager(SET, {"input": entry})).ok()["setLeadQueueEntry"]
        assert done["userErrors"] == []
    return a, b, c


async def create_at_once(sales_as, count):
    support = await sales_as("sales_support")
    answers = await asyncio.gather(
        *(support(CREATE, {"input": lead_input()}) for _ in range(count))
    )
    payloads = [answer.ok()["createLead"] for answer in answers]
    assert all(p["userErrors"] == [] for p in payloads)
    return [p["lead"] for p in payloads]


async def test_50_leads_at_once_over_weights_1_1_2_split_13_12_25(sales_as, known_agent, sessions):
    a, b, c = await queue_of_three(sales_as, known_agent)

    created = await create_at_once(sales_as, 50)

    split = Counter(lead["agent"]["id"] for lead in created)
    assert [split[str(x)] for x in (a, b, c)] == [13, 12, 25]
    assert {lead["assignmentMethod"] for lead in created} == {"ROUND_ROBIN"}
    async with sessions() as session:
        rows = {r.user_id: r for r in (await session.scalars(select(LeadQueueEntry))).all()}
    # 12 whole cycles (back to 0, 0, 0) and then C, A: no step lost or taken twice.
    assert [rows[x].current_weight for x in (a, b, c)] == [-2, 2, 0]
    assert [rows[x].assigned_total for x in (a, b, c)] == [13, 12, 25]
    assert [rows[x].assigned_today for x in (a, b, c)] == [13, 12, 25]


async def test_20_leads_at_once_with_a_cap_of_5_nobody_gets_a_6th(sales_as, known_agent, sessions):
    agents = await queue_of_three(sales_as, known_agent, cap=5)

    created = await create_at_once(sales_as, 20)

    split = Counter(lead["agent"]["id"] if lead["agent"] else None for lead in created)
    assert [split[str(x)] for x in agents] == [5, 5, 5]
    assert split[None] == 5
    assert Counter(lead["assignmentMethod"] for lead in created) == {"ROUND_ROBIN": 15, None: 5}
    manager = await sales_as("manager")
    assert (await manager(UNASSIGNED)).ok()["unassignedLeads"]["totalCount"] == 5
    async with sessions() as session:
        owners = Counter((await session.scalars(select(Lead.agent_id))).all())
    assert [owners[x] for x in agents] == [5, 5, 5]
