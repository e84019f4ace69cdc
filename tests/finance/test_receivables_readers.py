"""Who reads `Client.receivables` (issue 12 §7): finance staff, sales support, the client's own
agent (sales' `salesAgentId` on the client) and the client itself; nobody else."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from subgraphs.finance.models import ClientFact
from tests.finance.test_refunds import check_paying, make_charter
from tests.support.graphql_client import GraphQLClient

RECEIVABLES = """query($r: [_Any!]!) { _entities(representations: $r) {
  ... on Client { receivables { owed paid outstanding } } } }"""


@pytest.fixture
async def agents_client(sessions):
    agent, client = uuid.uuid4(), uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(
            ClientFact(
                client_id=client, name="Lakeside", sales_agent_id=agent, as_of=datetime.now(UTC)
            )
        )
    charter = await make_charter(sessions, client, "900.00")
    await check_paying(sessions, client, "400.00", (charter, "400.00"))
    return agent, client


async def read(finance_server, http_client, client, token):
    caller = GraphQLClient(finance_server.graphql_url, http_client, token)
    return await caller(RECEIVABLES, {"r": [{"__typename": "Client", "id": str(client)}]})


async def test_the_clients_own_agent_reads_its_receivables(
    agents_client, finance_server, http_client, mint
):
    agent, client = agents_client

    answer = await read(
        finance_server, http_client, client, await mint("sales_agent", user_id=agent)
    )

    assert answer.ok()["_entities"][0]["receivables"] == {
        "owed": "900.00",
        "paid": "400.00",
        "outstanding": "500.00",
    }
    assert Decimal(answer.data["_entities"][0]["receivables"]["outstanding"]) == Decimal(500)


@pytest.mark.parametrize("role", ["accounting", "manager", "admin", "sales_support", "client"])
async def test_finance_staff_sales_support_and_the_client_itself_read_them(
    role, agents_client, finance_server, http_client, mint
):
    _, client = agents_client
    token = await mint(role, client_id=client if role == "client" else None)

    answer = await read(finance_server, http_client, client, token)

    assert answer.ok()["_entities"][0]["receivables"]["paid"] == "400.00"


@pytest.mark.parametrize(
    "who", ["another agent", "vendor", "driver", "dispatcher", "another client", "anonymous"]
)
async def test_everyone_else_is_refused(who, agents_client, finance_server, http_client, mint):
    _, client = agents_client
    token = {
        "another agent": lambda: mint("sales_agent", user_id=uuid.uuid4()),
        "vendor": lambda: mint("vendor"),
        "driver": lambda: mint("driver"),
        "dispatcher": lambda: mint("dispatcher"),
        "another client": lambda: mint("client", client_id=uuid.uuid4()),
    }.get(who)

    answer = await read(finance_server, http_client, client, await token() if token else None)

    assert answer.error_codes == ["UNAUTHENTICATED" if who == "anonymous" else "FORBIDDEN"]
    assert answer.data["_entities"][0]["receivables"] is None
