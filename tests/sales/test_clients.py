"""Clients: create, read, update, status; normalised contact details; audit and outbox."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from subgraphs.sales.models import Client, ClientAudit, ClientContact, outbox
from tests.sales.conftest import CLIENT_FIELDS, CREATE_CLIENT, ERRORS, client_input

UPDATE = f"""mutation($id: ID!, $input: UpdateClientInput!) {{
  updateClient(id: $id, input: $input) {{ client {{ {CLIENT_FIELDS} }} {ERRORS} }} }}"""
SET_STATUS = f"""mutation($id: ID!, $status: ClientStatus!) {{
  setClientStatus(id: $id, status: $status) {{ client {{ id status }} {ERRORS} }} }}"""
CLIENT = f"query($id: ID!) {{ client(id: $id) {{ {CLIENT_FIELDS} }} }}"


async def counts(sessions) -> tuple[int, int]:
    async with sessions() as session:
        clients = await session.scalar(select(func.count()).select_from(Client))
        contacts = await session.scalar(select(func.count()).select_from(ClientContact))
    return int(clients or 0), int(contacts or 0)


async def test_a_manager_creates_a_client_with_every_field_and_reads_it_back(
    sales_manager, known_agent
):
    agent = str(await known_agent())
    data = {
        "name": "  Lakeside University Athletics ",
        "type": "SCHOOL",
        "billingAddress": {
            "line1": "1 Campus Drive",
            "city": "Memphis",
            "region": "TN",
            "postalCode": "38152",
            "country": "us",
        },
        "taxExempt": True,
        "creditLimit": "50000.00",
        "paymentTerms": "NET_60",
        "salesAgentId": agent,
        "notes": "Football season: 12 away games.",
        "contacts": [
            {
                "name": "Dana Whitfield",
                "title": "Director of Team Travel",
                "email": "  Dana.Whitfield@Lakeside.EXAMPLE ",
                "phone": "(901) 555-0142",
                "isPrimary": True,
            },
            {"name": "Marcus Lee", "phone": "+44 20 7946 0958"},
        ],
    }

    created = (await sales_manager(CREATE_CLIENT, {"input": data})).ok()["createClient"]

    assert created["userErrors"] == []
    client = created["client"]
    assert client["name"] == "Lakeside University Athletics"
    assert client["type"] == "SCHOOL"
    assert client["status"] == "ACTIVE"
    assert client["taxExempt"] is True
    assert client["creditLimit"] == "50000.00"
    assert client["paymentTerms"] == "NET_60"
    assert client["salesAgent"] == {"id": agent}
    assert client["notes"] == "Football season: 12 away games."
    assert client["billingAddress"] == {
        "line1": "1 Campus Drive",
        "line2": None,
        "city": "Memphis",
        "region": "TN",
        "postalCode": "38152",
        "country": "US",
    }
    primary, other = client["contacts"]
    assert primary["email"] == "dana.whitfield@lakeside.example"
    assert primary["phone"] == "+19015550142"
    assert primary["isPrimary"] is True
    assert other["phone"] == "+442079460958"
    assert other["email"] is None
    assert other["isPrimary"] is False
    read = (await sales_manager(CLIENT, {"id": client["id"]})).ok()["client"]
    assert read == client


async def test_defaults_and_a_lone_contact_becomes_primary(sales_manager):
    data = {
        "name": "Harbor Senior Living",
        "type": "NONPROFIT",
        "contacts": [{"name": "Walter Price", "email": "walter@harbor.example"}],
    }

    client = (await sales_manager(CREATE_CLIENT, {"input": data})).ok()["createClient"]["client"]

    assert client["paymentTerms"] == "NET_30"
    assert client["taxExempt"] is False
    assert client["creditLimit"] is None
    assert client["billingAddress"] is None
    assert client["salesAgent"] is None  # a manager's client without a named agent
    assert client["contacts"][0]["isPrimary"] is True


async def test_a_sales_agents_new_client_is_its_own(sales_as, make_client):
    agent_id = uuid.uuid4()
    agent = await sales_as("sales_agent", user_id=agent_id)

    client = await make_client(by=agent)

    assert client["salesAgent"] == {"id": str(agent_id)}


async def test_staff_name_only_active_sales_agents_as_owners(
    sales_manager, make_client, known_agent, sessions
):
    """Unknown ids, demoted and disabled agents are refused; nothing changes."""
    agent = str(await known_agent())
    client = await make_client(salesAgentId=agent)
    refused = {
        "unknown": str(uuid.uuid4()),
        "demoted": str(await known_agent(roles=("dispatcher",))),
        "disabled": str(await known_agent(active=False)),
    }
    before = await counts(sessions)

    created = {
        why: (await sales_manager(CREATE_CLIENT, {"input": client_input(salesAgentId=who)})).ok()[
            "createClient"
        ]
        for why, who in refused.items()
    }
    updated = {
        why: (
            await sales_manager(UPDATE, {"id": client["id"], "input": {"salesAgentId": who}})
        ).ok()["updateClient"]
        for why, who in refused.items()
    }

    for payload in (*created.values(), *updated.values()):
        assert payload["client"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            ("salesAgentId", "UNKNOWN_AGENT")
        ]
    assert await counts(sessions) == before == (1, 1)
    read = (await sales_manager(CLIENT, {"id": client["id"]})).ok()["client"]
    assert read["salesAgent"] == {"id": agent}


async def test_bad_input_names_each_field_and_changes_nothing(sales_manager, sessions):
    data = {
        "name": " ",
        "type": "CORPORATE",
        "billingAddress": {"country": "USA", "city": "x" * 101},
        "notes": "n" * 5001,
        "contacts": [
            {"name": "A", "email": "not-an-email", "phone": "12345", "isPrimary": True},
            {"name": "", "email": "b@example.com"},
        ],
    }

    payload = (await sales_manager(CREATE_CLIENT, {"input": data})).ok()["createClient"]

    assert payload["client"] is None
    assert {(e["field"], e["code"]) for e in payload["userErrors"]} == {
        ("name", "REQUIRED"),
        ("billingAddress.country", "INVALID"),
        ("billingAddress.city", "TOO_LONG"),
        ("notes", "TOO_LONG"),
        ("contacts.0.email", "INVALID"),
        ("contacts.0.phone", "INVALID"),
        ("contacts.1.name", "REQUIRED"),
    }
    assert await counts(sessions) == (0, 0)


async def test_a_negative_or_over_precise_credit_limit_is_refused(sales_manager, sessions):
    negative = (
        await sales_manager(CREATE_CLIENT, {"input": client_input(creditLimit="-1.00")})
    ).ok()["createClient"]
    assert [(e["field"], e["code"]) for e in negative["userErrors"]] == [
        ("creditLimit", "OUT_OF_RANGE")
    ]
    precise = await sales_manager(CREATE_CLIENT, {"input": client_input(creditLimit="1.005")})
    assert precise.errors
    assert precise.data is None
    assert await counts(sessions) == (0, 0)


async def test_update_changes_only_given_fields_and_is_audited(sales_as, make_client, sessions):
    client = await make_client(creditLimit="1000.00", notes="first")
    manager_id = uuid.uuid4()
    manager = await sales_as("manager", user_id=manager_id)

    updated = (
        await manager(
            UPDATE,
            {
                "id": client["id"],
                "input": {"creditLimit": "2500.50", "paymentTerms": "NET_15", "notes": ""},
            },
        )
    ).ok()["updateClient"]

    assert updated["userErrors"] == []
    assert updated["client"]["creditLimit"] == "2500.50"
    assert updated["client"]["paymentTerms"] == "NET_15"
    assert updated["client"]["notes"] is None
    assert updated["client"]["name"] == client["name"]
    async with sessions() as session:
        entry = await session.scalar(select(ClientAudit).where(ClientAudit.action == "update"))
    assert entry is not None
    assert entry.actor_id == manager_id
    assert entry.impersonator_id is None
    assert entry.before == {"credit_limit": "1000.00", "payment_terms": "net_30", "notes": "first"}
    assert entry.after == {"credit_limit": "2500.50", "payment_terms": "net_15", "notes": None}


async def test_status_moves_between_active_and_inactive_and_is_announced(
    sales_manager, make_client, sessions
):
    client = await make_client()

    off = (await sales_manager(SET_STATUS, {"id": client["id"], "status": "INACTIVE"})).ok()
    on = (await sales_manager(SET_STATUS, {"id": client["id"], "status": "ACTIVE"})).ok()

    assert off["setClientStatus"]["client"]["status"] == "INACTIVE"
    assert on["setClientStatus"]["client"]["status"] == "ACTIVE"
    async with sessions() as session:
        events = (
            await session.execute(select(outbox.c.topic, outbox.c.payload).order_by(outbox.c.id))
        ).all()
        actions = list(await session.scalars(select(ClientAudit.action).order_by(ClientAudit.at)))
    assert {topic for topic, _ in events} == {"sales.client_changed"}
    assert [p["action"] for _, p in events] == ["created", "status_changed", "status_changed"]
    assert events[1][1]["status"] == "inactive"
    assert events[1][1]["clientId"] == client["id"]
    assert "status:inactive" in actions
    assert "status:active" in actions


async def test_an_unknown_client_is_a_user_error_on_update_and_not_found_on_read(sales_manager):
    missing = str(uuid.uuid4())

    payload = (await sales_manager(UPDATE, {"id": missing, "input": {"name": "X"}})).ok()
    read = await sales_manager(CLIENT, {"id": missing})

    assert [(e["field"], e["code"]) for e in payload["updateClient"]["userErrors"]] == [
        ("id", "NOT_FOUND")
    ]
    assert read.error_codes == ["NOT_FOUND"]


async def test_clients_connection_filters_and_pages(sales_manager, make_client, known_agent):
    agent = str(await known_agent())
    await make_client("Alpha Tours", type="SCHOOL", salesAgentId=agent)
    await make_client("Beta Travel", type="CORPORATE")
    gamma = await make_client("Gamma 100% Travel", type="GOVERNMENT", salesAgentId=agent)
    await sales_manager(SET_STATUS, {"id": gamma["id"], "status": "INACTIVE"})
    query = """query($first: Int, $after: String, $filters: ClientFilter) {
      clients(first: $first, after: $after, filters: $filters) {
        totalCount pageInfo { hasNextPage endCursor } edges { node { name } } } }"""

    async def names(**variables):
        page = (await sales_manager(query, variables)).ok()["clients"]
        return [e["node"]["name"] for e in page["edges"]], page

    assert (await names())[0] == ["Alpha Tours", "Beta Travel", "Gamma 100% Travel"]
    assert (await names(filters={"search": "TRAVEL"}))[0] == ["Beta Travel", "Gamma 100% Travel"]
    assert (await names(filters={"search": "100%"}))[0] == ["Gamma 100% Travel"]
    assert (await names(filters={"search": "%"}))[0] == ["Gamma 100% Travel"]
    assert (await names(filters={"status": ["ACTIVE"]}))[0] == ["Alpha Tours", "Beta Travel"]
    assert (await names(filters={"type": ["SCHOOL", "GOVERNMENT"]}))[0] == [
        "Alpha Tours",
        "Gamma 100% Travel",
    ]
    assert (await names(filters={"salesAgentId": agent}))[0] == [
        "Alpha Tours",
        "Gamma 100% Travel",
    ]
    first, page = await names(first=2)
    assert first == ["Alpha Tours", "Beta Travel"]
    assert page["totalCount"] == 3
    assert page["pageInfo"]["hasNextPage"] is True
    rest, _ = await names(first=2, after=page["pageInfo"]["endCursor"])
    assert rest == ["Gamma 100% Travel"]
