"""convertLead across sales and the real charters subgraph: once per key, whatever happens.

Two sales apps share the database: one whose charters URL is the real
charters server, one whose charters URL is a closed port (a real failure
between the client step and the quote step, no injection point). Charters
learns the clients sales creates from sales' `sales.client_changed` events,
as in production. Clients, charters and conversions are counted by SQL.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from db.embedded import free_port
from subgraphs.charters.app import create_app as create_charters_app
from subgraphs.charters.service import directory
from subgraphs.kit.settings import Settings
from subgraphs.sales.app import create_app
from subgraphs.sales.service.charters_port import (
    ChartersUnavailable,
    HttpCharterQuotes,
    QuoteRefused,
    QuoteRequest,
)
from tests.sales.conftest import CLIENT_FIELDS, CREATE_CLIENT, CREATE_LEAD, ERRORS, client_input
from tests.support.charters_fixtures import apply_event, client_event, event_now
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve
from tests.support.tokens import TokenMinter

CONVERT = f"""mutation($id: ID!, $input: ConvertLeadInput!) {{
  convertLead(id: $id, input: $input) {{
    lead {{ id status convertedAt charter {{ id }} client {{ id name }} }}
    client {{ {CLIENT_FIELDS} }}
    charter {{ id }}
    {ERRORS}
  }}
}}"""
SET_STATUS = f"""mutation($id: ID!, $status: LeadStatus!, $reason: String) {{
  setLeadStatus(id: $id, status: $status, reason: $reason) {{ lead {{ id status }} {ERRORS} }} }}"""


@pytest.fixture(scope="module")
async def converting_sales(
    subgraph_settings: Settings, charters_server: LiveServer
) -> AsyncIterator[LiveServer]:
    """Sales whose charters is the real charters server."""
    settings = subgraph_settings.model_copy(update={"charters_url": charters_server.graphql_url})
    async with serve(create_app(settings)) as server:
        yield server


@pytest.fixture(scope="module")
async def cut_off_sales(subgraph_settings: Settings) -> AsyncIterator[LiveServer]:
    """Sales whose charters URL is a port nothing listens on."""
    closed = f"http://127.0.0.1:{free_port()}/graphql"
    async with serve(
        create_app(subgraph_settings.model_copy(update={"charters_url": closed}))
    ) as s:
        yield s


@pytest.fixture
def caller(http_client: httpx.AsyncClient, mint: TokenMinter) -> Any:
    """A GraphQL client of `server` with a token of these roles (and user)."""

    async def make(server: LiveServer, *roles: str, user_id: uuid.UUID | None = None) -> Any:
        return GraphQLClient(server.graphql_url, http_client, await mint(*roles, user_id=user_id))

    return make


@pytest.fixture
def agent_id() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
async def agent(caller: Any, converting_sales: LiveServer, agent_id: uuid.UUID) -> Any:
    return await caller(converting_sales, "sales_agent", user_id=agent_id)


def trip_day(days: int = 20) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


async def new_lead(by: Any, **fields: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    data = {
        "source": "WEB",
        "firstName": "Dana",
        "lastName": f"Whitfield {tag}",
        "email": f"dana.{tag}@lakeside.example",
        "phone": "(901) 555-0142",
        "company": f"Lakeside Athletics {tag}",
        "tripDate": trip_day(),
        "origin": "Memphis, TN",
        "destination": "Nashville, TN",
        "passengers": 52,
        **fields,
    }
    payload = (await by(CREATE_LEAD, {"input": data})).ok()["createLead"]
    assert payload["userErrors"] == [], payload
    return payload["lead"]  # type: ignore[no-any-return]


async def convert(by: Any, lead_id: str, key: str, **fields: Any) -> dict[str, Any]:
    answer = await by(CONVERT, {"id": lead_id, "input": {"idempotencyKey": key, **fields}})
    return answer.ok()["convertLead"]  # type: ignore[no-any-return]


async def counts(sessions: Any) -> dict[str, int]:
    """Rows that conversion may create, as stored."""
    async with sessions() as session:
        row = (
            await session.execute(
                text(
                    "SELECT (SELECT count(*) FROM sales.clients),"
                    " (SELECT count(*) FROM charters.charters),"
                    " (SELECT count(*) FROM sales.lead_conversions),"
                    " (SELECT count(*) FROM sales.leads WHERE status = 'converted')"
                )
            )
        ).one()
    return dict(
        zip(("clients", "charters", "conversions", "converted"), map(int, row), strict=True)
    )


async def stored_charter(sessions: Any, charter_id: str) -> dict[str, Any]:
    async with sessions() as session:
        row = (
            await session.execute(
                text(
                    "SELECT client_id, sales_agent_id, passenger_count, pickup_local,"
                    " pickup_time_zone, trip_type, status FROM charters.charters WHERE id = :id"
                ),
                {"id": charter_id},
            )
        ).one()
        stops = (
            await session.execute(
                text(
                    "SELECT stop_type, address FROM charters.stops WHERE charter_id = :id"
                    " ORDER BY position"
                ),
                {"id": charter_id},
            )
        ).all()
    return {**row._asdict(), "stops": [tuple(s) for s in stops]}


def codes(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def test_a_lead_becomes_a_client_and_a_quote_and_the_same_call_again_changes_nothing(
    agent, agent_id, sessions
):
    lead = await new_lead(agent)
    key = f"convert-{uuid.uuid4()}"

    first = await convert(agent, lead["id"], key)
    again = await convert(agent, lead["id"], key)

    assert first["userErrors"] == [], first
    assert again["userErrors"] == []
    assert again["lead"] == first["lead"]
    assert again["client"]["id"] == first["client"]["id"]
    assert again["charter"]["id"] == first["charter"]["id"]
    assert first["lead"]["status"] == "CONVERTED"
    assert first["lead"]["convertedAt"] is not None
    assert first["lead"]["charter"] == first["charter"]
    assert first["lead"]["client"]["id"] == first["client"]["id"]
    client = first["client"]
    assert client["name"] == lead["company"]
    assert client["type"] == "CORPORATE"
    assert client["salesAgent"] == {"id": str(agent_id)}
    assert [(c["email"], c["phone"], c["isPrimary"]) for c in client["contacts"]] == [
        (lead["email"], "+19015550142", True)
    ]
    charter = await stored_charter(sessions, first["charter"]["id"])
    assert str(charter["client_id"]) == client["id"]
    assert str(charter["sales_agent_id"]) == str(agent_id)
    assert charter["passenger_count"] == 52
    assert charter["pickup_local"].isoformat(timespec="minutes") == f"{trip_day()}T09:00"
    assert charter["pickup_time_zone"] == "America/Chicago"
    assert (charter["trip_type"], charter["status"]) == ("one_way", "quote")
    assert charter["stops"] == [("pickup", "Memphis, TN"), ("dropoff", "Nashville, TN")]
    assert await counts(sessions) == {"clients": 1, "charters": 1, "conversions": 1, "converted": 1}


async def test_converting_is_recorded_as_a_status_change_audited_and_announced(agent, sessions):
    lead = await new_lead(agent)

    done = await convert(agent, lead["id"], f"convert-{uuid.uuid4()}")

    async with sessions() as session:
        activities = (
            await session.execute(
                text(
                    "SELECT from_status, to_status FROM sales.lead_activities"
                    " WHERE lead_id = :id AND activity_type = 'status_change'"
                ),
                {"id": lead["id"]},
            )
        ).all()
        audits = (
            await session.execute(
                text("SELECT action, after FROM sales.lead_audit WHERE lead_id = :id ORDER BY at"),
                {"id": lead["id"]},
            )
        ).all()
        events = (
            await session.scalars(
                text(
                    "SELECT payload FROM sales.outbox WHERE topic = 'sales.lead_changed'"
                    " AND payload->>'leadId' = :id AND payload->>'action' = 'converted'"
                ),
                {"id": lead["id"]},
            )
        ).all()
    assert [tuple(a) for a in activities] == [("new", "converted")]
    assert audits[-1][0] == "status:converted"
    assert audits[-1][1]["charter_id"] == done["charter"]["id"]
    assert audits[-1][1]["client_id"] == done["client"]["id"]
    assert [e["status"] for e in events] == ["converted"]


async def test_a_retry_after_charters_was_unreachable_finishes_with_one_client_and_one_quote(
    agent_id, caller, converting_sales, cut_off_sales, sessions
):
    cut_off = await caller(cut_off_sales, "sales_agent", user_id=agent_id)
    lead = await new_lead(cut_off)
    key = f"convert-{uuid.uuid4()}"

    failed = await convert(cut_off, lead["id"], key)

    assert codes(failed) == [(None, "CHARTERS_UNAVAILABLE")]
    assert failed["lead"] is None
    assert await counts(sessions) == {"clients": 1, "charters": 0, "conversions": 1, "converted": 0}
    async with sessions() as session:
        state, made = (
            await session.execute(
                text(
                    "SELECT state, client_id FROM sales.lead_conversions WHERE idempotency_key = :k"
                ),
                {"k": key},
            )
        ).one()
    assert state == "client_ready"

    agent = await caller(converting_sales, "sales_agent", user_id=agent_id)
    retried = await convert(agent, lead["id"], key)

    assert retried["userErrors"] == [], retried
    assert retried["lead"]["status"] == "CONVERTED"
    assert retried["client"]["id"] == str(made)
    assert await counts(sessions) == {"clients": 1, "charters": 1, "conversions": 1, "converted": 1}


async def test_concurrent_duplicates_with_one_key_make_one_client_and_one_quote(agent, sessions):
    lead = await new_lead(agent)
    key = f"convert-{uuid.uuid4()}"

    answers = await asyncio.gather(*(convert(agent, lead["id"], key) for _ in range(5)))

    assert all(a["userErrors"] == [] for a in answers), answers
    assert len({a["client"]["id"] for a in answers}) == 1
    assert len({a["charter"]["id"] for a in answers}) == 1
    assert await counts(sessions) == {"clients": 1, "charters": 1, "conversions": 1, "converted": 1}


async def test_a_key_reused_with_other_input_or_for_another_lead_is_a_conflict(agent, sessions):
    lead = await new_lead(agent)
    other_lead = await new_lead(agent)
    key = f"convert-{uuid.uuid4()}"
    await convert(agent, lead["id"], key)

    other_input = await convert(agent, lead["id"], key, passengerCount=12)
    other_target = await convert(agent, other_lead["id"], key)

    assert codes(other_input) == [("idempotencyKey", "CONFLICT")]
    assert codes(other_target) == [("idempotencyKey", "CONFLICT")]
    assert other_input["lead"] is None
    assert other_target["lead"] is None
    assert await counts(sessions) == {"clients": 1, "charters": 1, "conversions": 1, "converted": 1}


async def test_a_converted_lead_under_another_key_is_already_converted_and_shows_its_quote(
    agent, sessions
):
    lead = await new_lead(agent)
    first = await convert(agent, lead["id"], f"convert-{uuid.uuid4()}")

    second = await convert(agent, lead["id"], f"convert-{uuid.uuid4()}")

    assert codes(second) == [("id", "ALREADY_CONVERTED")]
    assert second["lead"]["charter"] == first["charter"]
    assert second["lead"]["status"] == "CONVERTED"
    assert await counts(sessions) == {"clients": 1, "charters": 1, "conversions": 1, "converted": 1}


async def test_a_lost_lead_is_an_invalid_transition_and_nothing_is_created(agent, sessions):
    lead = await new_lead(agent)
    lost = (
        await agent(SET_STATUS, {"id": lead["id"], "status": "LOST", "reason": "Went by train"})
    ).ok()
    assert lost["setLeadStatus"]["userErrors"] == []

    refused = await convert(agent, lead["id"], f"convert-{uuid.uuid4()}")

    assert codes(refused) == [("id", "INVALID_TRANSITION")]
    assert await counts(sessions) == {"clients": 0, "charters": 0, "conversions": 0, "converted": 0}


async def test_an_existing_client_matched_by_e_mail_is_reused(
    agent, caller, converting_sales, sessions
):
    manager = await caller(converting_sales, "manager")
    existing = (await manager(CREATE_CLIENT, {"input": client_input("Lakeside Athletics")})).ok()[
        "createClient"
    ]["client"]
    email = existing["contacts"][0]["email"]
    lead = await new_lead(agent, email=email.upper(), phone=None, company="Lakeside A.")

    done = await convert(agent, lead["id"], f"convert-{uuid.uuid4()}")

    assert done["userErrors"] == [], done
    assert done["client"]["id"] == existing["id"]
    assert done["lead"]["client"]["id"] == existing["id"]
    charter = await stored_charter(sessions, done["charter"]["id"])
    assert str(charter["client_id"]) == existing["id"]
    assert await counts(sessions) == {"clients": 1, "charters": 1, "conversions": 1, "converted": 1}


async def test_an_agent_converting_someone_elses_lead_is_forbidden(
    agent, caller, converting_sales, sessions
):
    lead = await new_lead(agent)
    colleague = await caller(converting_sales, "sales_agent")

    refused = await convert(colleague, lead["id"], f"convert-{uuid.uuid4()}")

    assert codes(refused) == [("id", "FORBIDDEN")]
    assert refused["lead"] is None
    assert await counts(sessions) == {"clients": 0, "charters": 0, "conversions": 0, "converted": 0}


async def test_a_manager_converts_an_agents_lead_into_the_agents_quote(
    agent, agent_id, caller, converting_sales, known_agent, sessions
):
    # Sales and charters each learn who the sales agents are from identity's events.
    await known_agent(agent_id)
    await apply_event(
        directory.apply_user_event,
        event_now({"userId": str(agent_id), "roles": ["sales_agent"], "active": True}),
    )
    lead = await new_lead(agent)
    manager = await caller(converting_sales, "manager")

    done = await convert(
        manager, lead["id"], f"convert-{uuid.uuid4()}", passengerCount=40, tripType="ROUND_TRIP"
    )

    assert done["userErrors"] == [], done
    charter = await stored_charter(sessions, done["charter"]["id"])
    assert str(charter["sales_agent_id"]) == str(agent_id)
    assert (charter["passenger_count"], charter["trip_type"]) == (40, "round_trip")


async def test_bad_trip_input_is_refused_on_its_field_and_nothing_is_created(agent, sessions):
    lead = await new_lead(agent, tripDate=None, passengers=None)

    refused = await convert(
        agent, lead["id"], f"convert-{uuid.uuid4()}", pickupTimeZone="Mars/Olympus"
    )

    assert sorted(codes(refused)) == [
        ("passengerCount", "REQUIRED"),
        ("pickupLocal", "REQUIRED"),
        ("pickupTimeZone", "INVALID"),
    ]
    assert await counts(sessions) == {"clients": 0, "charters": 0, "conversions": 0, "converted": 0}


async def test_charters_refusing_the_quote_is_a_user_error_on_convert_leads_own_field(
    agent, sessions
):
    lead = await new_lead(agent)
    far = (datetime.now(UTC) + timedelta(days=3 * 365)).date().isoformat()

    refused = await convert(
        agent, lead["id"], f"convert-{uuid.uuid4()}", pickupLocal=f"{far}T10:00"
    )

    assert codes(refused) == [("pickupLocal", "BEYOND_HORIZON")]
    counted = await counts(sessions)
    assert (counted["charters"], counted["converted"]) == (0, 0)


async def test_the_adapter_signs_its_request_for_a_charters_that_answers_only_the_router(
    subgraph_settings, mint
):
    """Subgraphs are one trust zone: sales signs with the router's credential when set."""
    settings = subgraph_settings.model_copy(
        update={"router_secrets": f"conversion-test-{uuid.uuid4().hex}"}
    )
    client_id = uuid.uuid4()
    await apply_event(directory.apply_client_event, client_event(client_id))
    request = QuoteRequest(client_id, "ONE_WAY", 10, f"{trip_day()}T09:00", "America/Chicago")
    bearer = await mint("sales_agent")
    async with serve(create_charters_app(settings)) as charters, httpx.AsyncClient() as http:
        unsigned = HttpCharterQuotes(http, charters.graphql_url)
        signed = HttpCharterQuotes(http, charters.graphql_url, settings.router_secret_list)
        with pytest.raises(QuoteRefused) as refused:
            await unsigned.create_quote(request, key="signed-1", bearer=bearer)
        quote = await signed.create_quote(request, key="signed-1", bearer=bearer)
        again = await signed.create_quote(request, key="signed-1", bearer=bearer)

    assert [p.code for p in refused.value.problems] == ["UNAUTHENTICATED"]
    assert again == quote
    assert quote.reference.startswith("CH-")


async def test_the_adapter_reports_a_closed_port_as_unavailable():
    closed = f"http://127.0.0.1:{free_port()}/graphql"
    request = QuoteRequest(uuid.uuid4(), "ONE_WAY", 10, f"{trip_day()}T09:00", "America/Chicago")
    async with httpx.AsyncClient() as http:
        with pytest.raises(ChartersUnavailable):
            await HttpCharterQuotes(http, closed).create_quote(request, key="k", bearer="")


async def test_through_the_router_an_agent_creates_calls_converts_and_reads_it_in_one_request(
    router_url, http_client, mint, agent_id
):
    agent = GraphQLClient(router_url, http_client, await mint("sales_agent", user_id=agent_id))
    lead = await new_lead(agent, company="Riverside Choir")
    logged = (
        await agent(
            f"""mutation($id: ID!) {{ logLeadActivity(leadId: $id, input: {{type: CALL}}) {{
              lead {{ contactCount }} {ERRORS} }} }}""",
            {"id": lead["id"]},
        )
    ).ok()["logLeadActivity"]
    assert logged["userErrors"] == []

    done = await convert(agent, lead["id"], f"convert-{uuid.uuid4()}")
    read = (
        await agent(
            """query($id: ID!) { lead(id: $id) { status
              charter { reference client { name } } } }""",
            {"id": lead["id"]},
        )
    ).ok()["lead"]

    assert done["userErrors"] == [], done
    assert read["status"] == "CONVERTED"
    assert read["charter"]["reference"].startswith("CH-")
    assert read["charter"]["client"] == {"name": "Riverside Choir"}
