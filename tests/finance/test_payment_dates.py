"""A payment's date change (issue 12 §3): a reason, not in the future, audited with both dates."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from subgraphs.finance.models import FinanceAudit, Payment, SyncRecord
from tests.finance.test_refunds import check_paying, make_charter, make_client
from tests.support.graphql_client import GraphQLClient

CHANGE = """mutation($id: ID!, $on: Date!, $reason: String!) {
  changePaymentDate(id: $id, receivedOn: $on, reason: $reason) {
    payment { id receivedOn } userErrors { field code message } } }"""


def operator_today(settings) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(settings.operator_time_zone)).date()


async def test_a_date_change_is_audited_with_its_reason(
    sessions, finance_server, subgraph_settings, http_client, mint
):
    client = await make_client(sessions)
    charter = await make_charter(sessions, client, "100.00")
    check = await check_paying(sessions, client, "100.00", (charter, "100.00"))
    user = uuid.uuid4()
    accounting = GraphQLClient(
        finance_server.graphql_url, http_client, await mint("accounting", user_id=user)
    )
    earlier = (operator_today(subgraph_settings) - timedelta(days=3)).isoformat()

    answer = (
        await accounting(
            CHANGE, {"id": str(check), "on": earlier, "reason": "Deposited on the 27th"}
        )
    ).ok()["changePaymentDate"]

    assert answer == {"payment": {"id": str(check), "receivedOn": earlier}, "userErrors": []}
    async with sessions() as session:
        audit = await session.scalar(
            select(FinanceAudit).where(
                FinanceAudit.entity_id == check, FinanceAudit.action == "change_date"
            )
        )
        assert audit.after == {"received_on": earlier}
        assert audit.before == {"received_on": "2026-11-30"}
        assert (audit.reason, audit.actor_id) == ("Deposited on the 27th", user)
        assert (
            await session.scalar(select(SyncRecord.id).where(SyncRecord.entity_id == check))
            is not None
        )


async def test_a_future_date_a_missing_reason_and_an_unknown_payment_are_refused(
    sessions, finance_server, subgraph_settings, http_client, mint
):
    client = await make_client(sessions)
    charter = await make_charter(sessions, client, "100.00")
    check = await check_paying(sessions, client, "100.00", (charter, "100.00"))
    accounting = GraphQLClient(finance_server.graphql_url, http_client, await mint("accounting"))
    tomorrow = (operator_today(subgraph_settings) + timedelta(days=1)).isoformat()

    both = (await accounting(CHANGE, {"id": str(check), "on": tomorrow, "reason": " "})).ok()[
        "changePaymentDate"
    ]
    unknown = (
        await accounting(CHANGE, {"id": str(uuid.uuid4()), "on": "2026-01-02", "reason": "x"})
    ).ok()["changePaymentDate"]
    as_sales = await accounting(
        CHANGE,
        {"id": str(check), "on": "2026-01-02", "reason": "x"},
        token=await mint("sales_support"),
    )
    as_client = await accounting(
        CHANGE,
        {"id": str(check), "on": "2026-01-02", "reason": "x"},
        token=await mint("client", client_id=client),
    )

    assert both["payment"] is None
    assert {(e["field"], e["code"]) for e in both["userErrors"]} == {
        ("receivedOn", "IN_THE_FUTURE"),
        ("reason", "REQUIRED"),
    }
    assert [(e["field"], e["code"]) for e in unknown["userErrors"]] == [("id", "NOT_FOUND")]
    assert as_sales.error_codes == ["FORBIDDEN"]
    assert as_client.error_codes == ["FORBIDDEN"]
    async with sessions() as session:
        assert (await session.get(Payment, check)).received_on == date(2026, 11, 30)
