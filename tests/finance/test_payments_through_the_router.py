"""Issue 12's headline, first part: one check pays three charters' deposits, read through the router."""

from __future__ import annotations

import uuid
from collections import Counter

from db.engine import record_statements
from subgraphs.finance.reports.common import today as operator_today
from subgraphs.kit.settings import get_settings
from tests.support.graphql_client import GraphQLClient

RECORD = """mutation($input: RecordPaymentInput!) { recordPayment(input: $input) {
  payment { id amount unapplied } userErrors { field code message } } }"""
APPLY = """mutation($input: ApplyPaymentInput!) { applyPayment(input: $input) {
  application { id amount } userErrors { field code message } } }"""
CHARTERS = """{ charters(first: 50) { edges { node { id reference
  balance { owed paid due outstanding nextDueOn } payments { amount } } } } }"""


async def test_one_check_pays_three_deposits_and_the_balances_say_so(
    finance_router, http_client, mint, bookable_charter, booked
):
    client = str(uuid.uuid4())
    charters = [await bookable_charter(clientId=client) for _ in range(3)]
    for charter in charters:
        await booked(charter["id"], client, "2000.00")
    accounting = GraphQLClient(finance_router, http_client, await mint("accounting"))
    today = operator_today(get_settings().operator_time_zone).isoformat()  # finance's day

    check = (
        await accounting(
            RECORD,
            {
                "input": {
                    "clientId": client,
                    "amount": "1500.00",
                    "receivedOn": today,
                    "method": "CHECK",
                    "checkNumber": "10442",
                    "bank": "First Tennessee",
                }
            },
        )
    ).ok()["recordPayment"]
    assert check["userErrors"] == []
    for n, charter in enumerate(charters):
        applied = (
            await accounting(
                APPLY,
                {
                    "input": {
                        "paymentId": check["payment"]["id"],
                        "charterId": charter["id"],
                        "amount": "500.00",
                        "idempotencyKey": f"check-10442-{n}",
                    }
                },
            )
        ).ok()["applyPayment"]
        assert applied["userErrors"] == []
    again = (
        await accounting(
            APPLY,
            {
                "input": {
                    "paymentId": check["payment"]["id"],
                    "charterId": charters[0]["id"],
                    "amount": "500.00",
                    "idempotencyKey": "check-10442-0",
                }
            },
        )
    ).ok()["applyPayment"]

    page = (await accounting(CHARTERS)).ok()["charters"]["edges"]
    by_id = {e["node"]["id"]: e["node"] for e in page}
    assert again["userErrors"] == []  # the same application: applied once
    for charter in charters:
        node = by_id[charter["id"]]
        assert node["balance"]["owed"] == "2000.00"
        assert node["balance"]["paid"] == "500.00"
        assert node["balance"]["outstanding"] == "1500.00"
        assert node["payments"] == [{"amount": "500.00"}]


async def test_fifty_balances_cost_one_request_to_finance_and_constant_sql(
    finance_router, http_client, mint, bookable_charter, booked
):
    accounting = GraphQLClient(finance_router, http_client, await mint("accounting"))
    client = str(uuid.uuid4())

    async def costs(expected: int) -> Counter[str]:
        with record_statements() as recorder:
            edges = (await accounting(CHARTERS)).ok()["charters"]["edges"]
        assert len(edges) == expected
        return Counter("finance" for s in recorder.statements if "finance." in s)

    for _ in range(2):
        charter = await bookable_charter(clientId=client)
        await booked(charter["id"], client, "800.00")
    await costs(2)
    small = await costs(2)
    for _ in range(10):
        charter = await bookable_charter(clientId=client)
        await booked(charter["id"], client, "800.00")
    large = await costs(12)

    assert small == large
    assert large["finance"] <= 4


async def test_who_reads_a_charters_money(
    finance_router, http_client, mint, bookable_charter, booked
):
    client, agent = uuid.uuid4(), uuid.uuid4()
    charter = await bookable_charter(clientId=str(client))
    await booked(charter["id"], str(client), "900.00", agent_id=str(agent))
    query = """query($id: ID!) { charter(id: $id) { reference balance { owed } } }"""

    async def read(*roles, **ids):
        caller = GraphQLClient(finance_router, http_client, await mint(*roles, **ids))
        return await caller(query, {"id": charter["id"]})

    for role in ("accounting", "manager", "admin", "sales_support"):
        assert (await read(role)).ok()["charter"]["balance"] == {"owed": "900.00"}
    assert (await read("sales_agent", user_id=agent)).ok()["charter"]["balance"] == {
        "owed": "900.00"
    }
    other_agent = await read("sales_agent", user_id=uuid.uuid4())
    assert other_agent.data["charter"]["balance"] is None
    assert other_agent.error_codes == ["FORBIDDEN"]
    for role in ("dispatcher",):
        refused = await read(role)
        assert refused.data["charter"]["balance"] is None
        assert refused.error_codes == ["FORBIDDEN"]
