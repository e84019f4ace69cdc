"""`leads { activities client { name charters } }` through the router: constant SQL per subgraph.

Each lead has activities and a client with charters; sales answers the
leads, their activities and clients, charters the clients' charters. The
statements each subgraph runs for one request must not grow with the
number of leads (issue 10 §7).
"""

from __future__ import annotations

import re
from collections import Counter

from db.engine import record_statements
from tests.sales.conftest import CREATE_LEAD, lead_input
from tests.support.graphql_client import GraphQLClient

QUERY = """{ leads(first: 50) { edges { node { activities { type }
  client { name charters(first: 5) { totalCount } } } } } }"""
LOG = """mutation($id: ID!) { logLeadActivity(leadId: $id, input: {type: CALL}) {
  userErrors { code } } }"""
SCHEMA = re.compile(r"\b(sales|charters|identity)\.")


async def _add_leads(manager, make_client, bookable_charter, count: int) -> None:
    for _ in range(count):
        client = await make_client()
        await bookable_charter(clientId=client["id"])
        email = client["contacts"][0]["email"]
        lead = (await manager(CREATE_LEAD, {"input": lead_input(email=email)})).ok()["createLead"]
        assert lead["userErrors"] == []
        for _ in range(2):
            logged = await manager(LOG, {"id": lead["lead"]["id"]})
            assert logged.ok()["logLeadActivity"]["userErrors"] == []


async def _statements(router: GraphQLClient, expected_leads: int) -> Counter[str]:
    with record_statements() as recorder:
        edges = (await router(QUERY)).ok()["leads"]["edges"]
    assert len(edges) == expected_leads
    assert all(len(e["node"]["activities"]) == 2 for e in edges)
    assert all(e["node"]["client"]["charters"]["totalCount"] == 1 for e in edges)
    return Counter(m.group(1) for s in recorder.statements if (m := SCHEMA.search(s)))


async def test_leads_with_activities_clients_and_charters_cost_constant_sql(
    router_url, http_client, mint, sales_manager, make_client, bookable_charter
):
    router = GraphQLClient(router_url, http_client, await mint("manager"))
    await _add_leads(sales_manager, make_client, bookable_charter, 2)
    await _statements(router, 2)  # warm: keys fetched, caches filled

    small = await _statements(router, 2)
    await _add_leads(sales_manager, make_client, bookable_charter, 10)
    large = await _statements(router, 12)

    assert small == large
    assert set(large) == {"sales", "charters"}
    assert large["sales"] <= 6  # page, count, activities, clients, contacts...
    assert large["charters"] <= 3
