"""Who reads and changes which lead (service/access.py), per role, over HTTP."""

from __future__ import annotations

import uuid

import pytest

from tests.sales.conftest import ERRORS

LEAD = "query($id: ID!) { lead(id: $id) { id lastName } }"
LISTS = [
    "{ leads { totalCount } }",
    "{ myLeads { totalCount } }",
    "{ recentLeads { totalCount } }",
    "{ followUpsDue { totalCount } }",
    "{ leadPipeline { count } }",
]
UPDATE = f"""mutation($id: ID!) {{
  updateLead(id: $id, input: {{company: "Taken"}}) {{ lead {{ company }} {ERRORS} }} }}"""
MARK_HOT = (
    f"""mutation($id: ID!) {{ markLeadHot(id: $id, hot: true) {{ lead {{ id }} {ERRORS} }} }}"""
)
ENTITIES = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Lead { id } } }"


@pytest.mark.parametrize("role", ["admin", "manager", "sales_support"])
async def test_managers_and_sales_support_read_and_edit_every_lead(
    role, sales_as, make_lead, known_agent
):
    theirs = await make_lead(agentId=str(await known_agent()))
    await make_lead()  # unassigned
    staff = await sales_as(role)

    one = (await staff(LEAD, {"id": theirs["id"]})).ok()["lead"]
    page = (await staff("{ leads { totalCount } }")).ok()["leads"]
    changed = (await staff(UPDATE, {"id": theirs["id"]})).ok()["updateLead"]

    assert one["id"] == theirs["id"]
    assert page["totalCount"] == 2
    assert changed["userErrors"] == []
    assert changed["lead"]["company"] == "Taken"


async def test_an_agent_reads_and_edits_only_its_own_leads(
    sales_as, make_lead, sessions, known_agent
):
    agent = await sales_as("sales_agent", user_id=uuid.uuid4())
    own = await make_lead(by=agent)
    theirs = await make_lead(agentId=str(await known_agent()))
    unassigned = await make_lead()

    assert (await agent(LEAD, {"id": own["id"]})).ok()["lead"]["id"] == own["id"]
    for other in (theirs, unassigned):
        assert (await agent(LEAD, {"id": other["id"]})).error_codes == ["NOT_FOUND"]
        refused = (await agent(UPDATE, {"id": other["id"]})).ok()["updateLead"]
        assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [("id", "FORBIDDEN")]
        hot = (await agent(MARK_HOT, {"id": other["id"]})).ok()["markLeadHot"]
        assert [e["code"] for e in hot["userErrors"]] == ["FORBIDDEN"]
    totals = [(await agent(q)).ok() for q in LISTS[:3]]
    assert [next(iter(t.values()))["totalCount"] for t in totals] == [1, 1, 1]
    entities = await agent(
        ENTITIES,
        {"r": [{"__typename": "Lead", "id": x["id"]} for x in (own, theirs, unassigned)]},
    )
    assert entities.data["_entities"] == [{"id": own["id"]}, None, None]
    reassign = (
        await agent(
            """mutation($id: ID!, $a: ID!) { updateLead(id: $id, input: {agentId: $a}) {
              userErrors { field code } } }""",
            {"id": own["id"], "a": str(uuid.uuid4())},
        )
    ).ok()["updateLead"]
    assert reassign["userErrors"] == [{"field": "agentId", "code": "FORBIDDEN"}]


@pytest.mark.parametrize("role", ["dispatcher", "accounting", "client", "vendor", "driver"])
async def test_other_roles_read_nothing_of_leads(role, sales_as, make_lead):
    lead = await make_lead()
    reader = await sales_as(role, client_id=uuid.uuid4() if role == "client" else None)

    assert (await reader(LEAD, {"id": lead["id"]})).error_codes == ["FORBIDDEN"]
    for query in LISTS:
        assert (await reader(query)).error_codes == ["FORBIDDEN"], query
    entities = await reader(ENTITIES, {"r": [{"__typename": "Lead", "id": lead["id"]}]})
    assert entities.data["_entities"] == [None]
