"""Contacts: exactly one primary per client, no primary e-mail shared by two clients."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from subgraphs.sales.models import Client, ClientAudit, ClientContact
from tests.sales.conftest import CREATE_CLIENT, ERRORS, client_input

CONTACT = (
    "contact { id name title email phone isPrimary } client { id contacts { email isPrimary } }"
)
ADD = f"""mutation($clientId: ID!, $input: ClientContactInput!) {{
  addClientContact(clientId: $clientId, input: $input) {{ {CONTACT} {ERRORS} }} }}"""
CHANGE = f"""mutation($id: ID!, $input: ClientContactChangeInput!) {{
  updateClientContact(id: $id, input: $input) {{ {CONTACT} {ERRORS} }} }}"""
REMOVE = f"""mutation($id: ID!) {{
  removeClientContact(id: $id) {{ client {{ contacts {{ email isPrimary }} }} {ERRORS} }} }}"""
PRIMARY = f"""mutation($id: ID!) {{ setPrimaryContact(id: $id) {{ {CONTACT} {ERRORS} }} }}"""


def problems(payload):
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def contact_rows(sessions, client_id):
    async with sessions() as session:
        rows = await session.scalars(
            select(ClientContact)
            .where(ClientContact.client_id == uuid.UUID(client_id))
            .order_by(ClientContact.name)
        )
        return [(r.name, r.email, r.phone, r.is_primary) for r in rows]


async def test_add_normalises_and_moving_the_primary_keeps_exactly_one(
    sales_manager, make_client, sessions
):
    client = await make_client()

    added = (
        await sales_manager(
            ADD,
            {
                "clientId": client["id"],
                "input": {"name": "Zoe", "email": "ZOE@Example.COM", "phone": "901.555.0100"},
            },
        )
    ).ok()["addClientContact"]
    assert added["userErrors"] == []
    assert added["contact"]["email"] == "zoe@example.com"
    assert added["contact"]["phone"] == "+19015550100"
    assert added["contact"]["isPrimary"] is False

    moved = (await sales_manager(PRIMARY, {"id": added["contact"]["id"]})).ok()["setPrimaryContact"]

    assert moved["userErrors"] == []
    assert moved["client"]["contacts"][0] == {"email": "zoe@example.com", "isPrimary": True}
    assert [c["isPrimary"] for c in moved["client"]["contacts"]] == [True, False]
    assert sum(1 for *_, primary in await contact_rows(sessions, client["id"]) if primary) == 1


async def test_adding_a_primary_contact_demotes_the_old_one(sales_manager, make_client):
    client = await make_client()

    added = (
        await sales_manager(
            ADD,
            {
                "clientId": client["id"],
                "input": {"name": "New Boss", "email": "boss@example.com", "isPrimary": True},
            },
        )
    ).ok()["addClientContact"]

    assert added["contact"]["isPrimary"] is True
    assert [c["isPrimary"] for c in added["client"]["contacts"]] == [True, False]


async def test_create_needs_exactly_one_primary_with_an_email(sales_manager, sessions):
    two = client_input(
        contacts=[
            {"name": "A", "email": "a@example.com", "isPrimary": True},
            {"name": "B", "email": "b@example.com", "isPrimary": True},
        ]
    )
    none = client_input(
        contacts=[{"name": "A", "email": "a@example.com"}, {"name": "B", "phone": "9015550100"}]
    )
    no_email = client_input(contacts=[{"name": "A", "phone": "9015550100"}])

    for data, expected in (
        (two, [("contacts", "PRIMARY_CONTACT")]),
        (none, [("contacts", "PRIMARY_CONTACT")]),
        (no_email, [("contacts.0.email", "REQUIRED")]),
    ):
        payload = (await sales_manager(CREATE_CLIENT, {"input": data})).ok()["createClient"]
        assert problems(payload) == expected
        assert payload["client"] is None
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Client)) == 0


async def test_the_database_refuses_a_second_primary_for_one_client(make_client, sessions):
    client = await make_client()

    async with sessions() as session:
        session.add(
            ClientContact(
                client_id=uuid.UUID(client["id"]),
                name="Sneaky",
                email="sneaky@example.com",
                is_primary=True,
            )
        )
        with pytest.raises(IntegrityError, match="uq_client_contacts_one_primary"):
            await session.commit()


async def test_two_clients_cannot_share_a_primary_email_on_create_add_or_change(
    sales_manager, make_client, sessions
):
    first = await make_client()
    taken = first["contacts"][0]["email"]

    duplicate = (
        await sales_manager(
            CREATE_CLIENT,
            {"input": client_input(contacts=[{"name": "X", "email": taken.upper()}])},
        )
    ).ok()["createClient"]
    assert problems(duplicate) == [("contacts.0.email", "CONFLICT")]

    second = await make_client()
    as_primary = (
        await sales_manager(
            ADD,
            {"clientId": second["id"], "input": {"name": "X", "email": taken, "isPrimary": True}},
        )
    ).ok()["addClientContact"]
    assert problems(as_primary) == [("email", "CONFLICT")]
    before = await contact_rows(sessions, second["id"])

    changed = (
        await sales_manager(CHANGE, {"id": second["contacts"][0]["id"], "input": {"email": taken}})
    ).ok()["updateClientContact"]
    assert problems(changed) == [("email", "CONFLICT")]
    assert await contact_rows(sessions, second["id"]) == before

    # The same address as a non-primary contact of another client is fine.
    ordinary = (
        await sales_manager(ADD, {"clientId": second["id"], "input": {"name": "Y", "email": taken}})
    ).ok()["addClientContact"]
    assert ordinary["userErrors"] == []
    promote = (await sales_manager(PRIMARY, {"id": ordinary["contact"]["id"]})).ok()
    assert problems(promote["setPrimaryContact"]) == [("email", "CONFLICT")]
    assert await contact_rows(sessions, second["id"]) == sorted(
        [*before, ("Y", taken, None, False)]
    )


async def test_two_concurrent_creates_with_one_primary_email_one_wins(sales_as, sessions):
    callers = [await sales_as("manager"), await sales_as("sales_support")]
    email = f"race.{uuid.uuid4().hex[:6]}@example.com"

    answers = await asyncio.gather(
        *(
            caller(
                CREATE_CLIENT,
                {"input": client_input(f"Racer {n}", contacts=[{"name": "R", "email": email}])},
            )
            for n, caller in enumerate(callers)
        )
    )

    payloads = [a.ok()["createClient"] for a in answers]
    winners = [p for p in payloads if p["client"]]
    losers = [p for p in payloads if not p["client"]]
    assert len(winners) == 1
    assert len(losers) == 1
    assert problems(losers[0]) == [("contacts.0.email", "CONFLICT")]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Client)) == 1
        assert await session.scalar(select(func.count()).select_from(ClientContact)) == 1


async def test_the_primary_is_removed_only_when_last_and_bad_details_change_nothing(
    sales_manager, make_client, sessions
):
    client = await make_client()
    primary_id = client["contacts"][0]["id"]
    extra = (
        await sales_manager(
            ADD, {"clientId": client["id"], "input": {"name": "Extra", "phone": "+1 615 555 0110"}}
        )
    ).ok()["addClientContact"]["contact"]

    refused = (await sales_manager(REMOVE, {"id": primary_id})).ok()["removeClientContact"]
    assert problems(refused) == [("id", "PRIMARY_CONTACT")]
    no_email = (await sales_manager(PRIMARY, {"id": extra["id"]})).ok()["setPrimaryContact"]
    assert problems(no_email) == [("id", "REQUIRED")]
    cleared = (await sales_manager(CHANGE, {"id": primary_id, "input": {"email": ""}})).ok()[
        "updateClientContact"
    ]
    assert problems(cleared) == [("email", "REQUIRED")]
    bad = (
        await sales_manager(CHANGE, {"id": extra["id"], "input": {"phone": "call me", "name": ""}})
    ).ok()["updateClientContact"]
    assert sorted(problems(bad)) == [("name", "REQUIRED"), ("phone", "INVALID")]
    before = await contact_rows(sessions, client["id"])

    removed = (await sales_manager(REMOVE, {"id": extra["id"]})).ok()["removeClientContact"]
    last = (await sales_manager(REMOVE, {"id": primary_id})).ok()["removeClientContact"]

    assert len(before) == 2
    assert removed["client"]["contacts"] == [
        {"email": client["contacts"][0]["email"], "isPrimary": True}
    ]
    assert last["userErrors"] == []
    assert last["client"]["contacts"] == []
    async with sessions() as session:
        actions = list(await session.scalars(select(ClientAudit.action).order_by(ClientAudit.at)))
    assert actions.count("remove_contact") == 2
    assert actions.count("add_contact") == 2
