"""Who reads and changes which client (service/access.py), per role, over HTTP."""

from __future__ import annotations

import uuid

import pytest

from tests.sales.conftest import ERRORS

STAFF = ("admin", "manager", "sales_agent", "sales_support", "dispatcher", "accounting")
CLIENT = "query($id: ID!) { client(id: $id) { id name contacts { email } } }"
CLIENTS = "{ clients(first: 5) { totalCount } }"
MY_CLIENT = "{ myClient { id name notes } }"
UPDATE = f"""mutation($id: ID!, $input: UpdateClientInput!) {{
  updateClient(id: $id, input: $input) {{ client {{ id name salesAgent {{ id }} }} {ERRORS} }} }}"""
ADD = f"""mutation($id: ID!) {{ addClientContact(clientId: $id, input: {{name: "Q"}}) {{
  contact {{ id }} {ERRORS} }} }}"""
ENTITIES = (
    """query($r: [_Any!]!) { _entities(representations: $r) { ... on Client { id name } } }"""
)


@pytest.mark.parametrize("role", STAFF)
async def test_staff_read_every_client(role, sales_as, make_client):
    client = await make_client("Read Me")
    reader = await sales_as(role)

    one = (await reader(CLIENT, {"id": client["id"]})).ok()["client"]
    page = (await reader(CLIENTS)).ok()["clients"]

    assert one["name"] == "Read Me"
    assert page["totalCount"] == 1


@pytest.mark.parametrize("role", ["vendor", "driver", "client"])
async def test_others_read_no_client_list(role, sales_as, make_client):
    await make_client()
    reader = await sales_as(role, client_id=uuid.uuid4() if role == "client" else None)

    assert (await reader(CLIENTS)).error_codes == ["FORBIDDEN"]


@pytest.mark.parametrize("role", ["vendor", "driver"])
async def test_vendors_and_drivers_read_nothing_even_by_reference(role, sales_as, make_client):
    client = await make_client()
    reader = await sales_as(role)

    assert (await reader(CLIENT, {"id": client["id"]})).error_codes == ["FORBIDDEN"]
    assert (await reader(MY_CLIENT)).error_codes == ["FORBIDDEN"]
    entities = await reader(ENTITIES, {"r": [{"__typename": "Client", "id": client["id"]}]})
    assert entities.data["_entities"] == [None]


async def test_a_client_account_reads_only_its_own_company(sales_as, make_client):
    own = await make_client("Own Company", notes="credit watch")
    other = await make_client("Other Company")
    reader = await sales_as("client", client_id=uuid.UUID(own["id"]))

    mine = await reader(MY_CLIENT)
    direct = (await reader(CLIENT, {"id": own["id"]})).ok()["client"]
    foreign = await reader(CLIENT, {"id": other["id"]})
    entities = (
        await reader(
            ENTITIES,
            {
                "r": [
                    {"__typename": "Client", "id": own["id"]},
                    {"__typename": "Client", "id": other["id"]},
                ]
            },
        )
    ).ok()["_entities"]

    assert mine.data["myClient"]["name"] == "Own Company"
    assert mine.data["myClient"]["notes"] is None
    assert mine.error_codes == ["FORBIDDEN"]  # internal notes: staff only
    assert direct["name"] == "Own Company"
    assert foreign.error_codes == ["NOT_FOUND"]
    assert entities == [{"id": own["id"], "name": "Own Company"}, None]


async def test_a_client_account_without_a_company_has_no_client(sales_as):
    reader = await sales_as("client")

    assert (await reader(MY_CLIENT)).error_codes == ["NOT_FOUND"]


async def test_agents_edit_only_their_own_clients(sales_as, make_client, sessions):
    owner_id = uuid.uuid4()
    owner = await sales_as("sales_agent", user_id=owner_id)
    stranger = await sales_as("sales_agent")
    client = await make_client("Owned", by=owner)

    mine = (await owner(UPDATE, {"id": client["id"], "input": {"name": "Owned 2"}})).ok()
    theirs = (await stranger(UPDATE, {"id": client["id"], "input": {"name": "Hijack"}})).ok()
    contact = (await stranger(ADD, {"id": client["id"]})).ok()
    give_away = (
        await owner(UPDATE, {"id": client["id"], "input": {"salesAgentId": str(uuid.uuid4())}})
    ).ok()

    assert mine["updateClient"]["userErrors"] == []
    assert [e["code"] for e in theirs["updateClient"]["userErrors"]] == ["FORBIDDEN"]
    assert [e["code"] for e in contact["addClientContact"]["userErrors"]] == ["FORBIDDEN"]
    assert [(e["field"], e["code"]) for e in give_away["updateClient"]["userErrors"]] == [
        ("salesAgentId", "FORBIDDEN")
    ]
    read = (await owner(CLIENT, {"id": client["id"]})).ok()["client"]
    assert read["name"] == "Owned 2"


async def test_an_agent_cannot_create_a_client_for_another_agent(sales_as, sessions):
    agent = await sales_as("sales_agent")
    create = f"""mutation($a: ID!) {{ createClient(input: {{name: "X", type: PERSONAL,
      salesAgentId: $a, contacts: [{{name: "X", email: "x@example.com"}}]}}) {{
      client {{ id }} {ERRORS} }} }}"""

    payload = (await agent(create, {"a": str(uuid.uuid4())})).ok()["createClient"]

    assert payload["client"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        ("salesAgentId", "FORBIDDEN")
    ]


@pytest.mark.parametrize("role", ["admin", "manager", "sales_support"])
async def test_managers_and_support_edit_and_reassign_any_client(
    role, sales_as, make_client, known_agent
):
    owner = await sales_as("sales_agent")
    client = await make_client(by=owner)
    new_agent = str(await known_agent())
    editor = await sales_as(role)

    payload = (
        await editor(UPDATE, {"id": client["id"], "input": {"salesAgentId": new_agent}})
    ).ok()["updateClient"]

    assert payload["userErrors"] == []
    assert payload["client"]["salesAgent"] == {"id": new_agent}
