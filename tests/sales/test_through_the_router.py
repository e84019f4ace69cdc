"""`charters { client { name } }` through the real router: charters' Client.charters
and sales' Client fields are one entity, joined by federation."""

from __future__ import annotations

import uuid

from tests.support.graphql_client import GraphQLClient

CHARTERS = """{ charters(first: 10) { edges { node { reference client { id name
  primaryContact { email } } } } } }"""
CLIENT = """query($id: ID!) { client(id: $id) { name charters(first: 5) { totalCount } } }"""
MY_CLIENT = "{ myClient { name type primaryContact { email } } }"


async def test_charters_answer_their_clients_names_through_the_router(
    router_url, http_client, mint, make_client, bookable_charter
):
    lakeside = await make_client("Lakeside University Athletics", type="SCHOOL")
    northwind = await make_client("Northwind Corporate Travel")
    for client in (lakeside, northwind, lakeside):
        await bookable_charter(clientId=client["id"])
    manager = GraphQLClient(router_url, http_client, await mint("manager"))

    answer = (await manager(CHARTERS)).ok()["charters"]["edges"]

    names = sorted(edge["node"]["client"]["name"] for edge in answer)
    assert names == [
        "Lakeside University Athletics",
        "Lakeside University Athletics",
        "Northwind Corporate Travel",
    ]
    by_id = {edge["node"]["client"]["id"]: edge["node"]["client"] for edge in answer}
    assert by_id[lakeside["id"]]["primaryContact"]["email"] == lakeside["contacts"][0]["email"]
    one = (await manager(CLIENT, {"id": lakeside["id"]})).ok()["client"]
    assert one == {"name": "Lakeside University Athletics", "charters": {"totalCount": 2}}


async def test_a_client_account_reads_its_company_through_the_router(
    router_url, http_client, mint, make_client
):
    own = await make_client("Summit Wedding Planners")
    client = GraphQLClient(
        router_url, http_client, await mint("client", client_id=uuid.UUID(own["id"]))
    )

    mine = (await client(MY_CLIENT)).ok()["myClient"]

    assert mine == {
        "name": "Summit Wedding Planners",
        "type": "CORPORATE",
        "primaryContact": {"email": own["contacts"][0]["email"]},
    }


PORTAL_USERS = """query($id: ID!) { client(id: $id) { name portalUsers { name email } } }"""
CREATE_USER = """mutation($input: CreateUserInput!) { createUser(input: $input) {
  user { id } userErrors { field code } } }"""


async def test_staff_see_a_clients_portal_accounts_which_identity_contributes(
    router_url, http_client, mint, make_client
):
    summit = await make_client("Summit Wedding Planners")
    other = await make_client("Other Co")
    admin = GraphQLClient(router_url, http_client, await mint("admin"))
    for name, company in (("Grace Kim", summit), ("Abe Lin", summit), ("Ola Ode", other)):
        made = await admin(
            CREATE_USER,
            {
                "input": {
                    "email": f"{name.split()[0].lower()}@{company['id'][:8]}.example",
                    "name": name,
                    "roles": ["CLIENT"],
                    "password": "a long enough passphrase 1",
                    "clientId": company["id"],
                }
            },
        )
        assert made.ok()["createUser"]["userErrors"] == []
    manager = GraphQLClient(router_url, http_client, await mint("manager"))
    client = GraphQLClient(
        router_url, http_client, await mint("client", client_id=uuid.UUID(summit["id"]))
    )

    seen = (await manager(PORTAL_USERS, {"id": summit["id"]})).ok()["client"]
    refused = await client(PORTAL_USERS, {"id": summit["id"]})

    assert [u["name"] for u in seen["portalUsers"]] == ["Abe Lin", "Grace Kim"]
    assert refused.data["client"]["name"] == "Summit Wedding Planners"
    assert refused.data["client"]["portalUsers"] is None
    assert refused.error_codes == ["FORBIDDEN"]
