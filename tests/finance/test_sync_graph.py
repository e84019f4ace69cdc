"""The accounting sync in the graph: `accountingSync`, the queue, the dead letter, held conflicts.

Through the finance subgraph over HTTP with real tokens. `accountingSync`
is finance staff's: anyone else who can read the invoice or payment gets a
FORBIDDEN error on that field (the rest of the object still answers).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from subgraphs.finance.models import (
    CharterFact,
    ClientFact,
    FinanceAudit,
    Invoice,
    Payment,
    PaymentApplication,
    QboMapping,
    SyncConflict,
    SyncRecord,
)
from tests.support.graphql_client import GraphQLClient

SYNC_FIELDS = "accountingSync { status attempts lastError syncedAt qboId }"
T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


async def _books(sessions: Any) -> dict[str, uuid.UUID]:
    """A client's charter, its invoice (synced) and a payment on it (dead after 8 tries)."""
    client_id, charter_id, invoice_id, payment_id = (uuid.uuid4() for _ in range(4))
    async with sessions() as session, session.begin():
        session.add(ClientFact(client_id=client_id, name="Lakeside", as_of=T0))
        session.add(
            CharterFact(
                charter_id=charter_id,
                client_id=client_id,
                status="booked",
                as_of=T0,
                accepted_total=Decimal("100.00"),
            )
        )
        session.add(
            Invoice(
                id=invoice_id,
                number="INV-2026-00011",
                client_id=client_id,
                charter_id=charter_id,
                status="sent",
                issued_on=date(2026, 11, 1),
                due_on=date(2026, 12, 1),
                subtotal=Decimal("100.00"),
                total=Decimal("100.00"),
            )
        )
        session.add(
            Payment(
                id=payment_id,
                client_id=client_id,
                amount=Decimal("40.00"),
                applied=Decimal("40.00"),
                received_on=date(2026, 11, 2),
                method="cash",
            )
        )
        await session.flush()
        session.add(
            PaymentApplication(
                payment_id=payment_id,
                charter_id=charter_id,
                invoice_id=invoice_id,
                amount=Decimal("40.00"),
                idempotency_key=f"k-{payment_id}",
            )
        )
        session.add(
            SyncRecord(
                entity="invoice",
                entity_id=invoice_id,
                status="synced",
                synced_at=T0,
                created_at=T0 - timedelta(minutes=2),
            )
        )
        session.add(
            QboMapping(
                entity="invoice", entity_id=invoice_id, qbo_id="77", sync_token="3", synced_at=T0
            )
        )
        session.add(
            SyncRecord(
                entity="payment",
                entity_id=payment_id,
                status="dead",
                attempts=8,
                last_error="gave up after 8 attempts: QuickBooks answered 503",
                created_at=T0 - timedelta(minutes=1),
            )
        )
    return {
        "client": client_id,
        "charter": charter_id,
        "invoice": invoice_id,
        "payment": payment_id,
    }


async def _caller(finance_server, http_client, mint, role: str, **kwargs: Any) -> GraphQLClient:
    return GraphQLClient(finance_server.graphql_url, http_client, await mint(role, **kwargs))


async def test_finance_staff_read_where_an_invoice_and_a_payment_stand(
    sessions, finance_server, http_client, mint
):
    ids = await _books(sessions)
    accounting = await _caller(finance_server, http_client, mint, "accounting")

    data = (
        await accounting(
            f"query($i: ID!, $p: ID!) {{ invoice(id: $i) {{ number {SYNC_FIELDS} }} "
            f"payment(id: $p) {{ amount {SYNC_FIELDS} }} }}",
            {"i": str(ids["invoice"]), "p": str(ids["payment"])},
        )
    ).ok()

    assert data["invoice"]["accountingSync"] == {
        "status": "SYNCED",
        "attempts": 0,
        "lastError": None,
        "syncedAt": "2026-11-30T09:00:00Z",
        "qboId": "77",
    }
    assert data["payment"]["accountingSync"] == {
        "status": "DEAD",
        "attempts": 8,
        "lastError": "gave up after 8 attempts: QuickBooks answered 503",
        "syncedAt": None,
        "qboId": None,
    }


async def test_accounting_sync_is_forbidden_to_the_invoice_s_own_client(
    sessions, finance_server, http_client, mint
):
    ids = await _books(sessions)
    client = await _caller(finance_server, http_client, mint, "client", client_id=ids["client"])

    answer = await client(
        f"query($i: ID!) {{ invoice(id: $i) {{ number {SYNC_FIELDS} }} }}",
        {"i": str(ids["invoice"])},
    )

    assert answer.data["invoice"]["number"] == "INV-2026-00011"
    assert answer.data["invoice"]["accountingSync"] is None
    assert answer.error_codes == ["FORBIDDEN"]
    assert answer.errors[0]["path"] == ["invoice", "accountingSync"]


async def test_accounting_sync_of_a_payment_is_forbidden_to_those_who_read_its_charter(
    sessions, finance_server, http_client, mint
):
    ids = await _books(sessions)
    query = (
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Charter { "
        f"payments {{ amount payment {{ amount {SYNC_FIELDS} }} }} }} }} }}"
    )
    variables = {"r": [{"__typename": "Charter", "id": str(ids["charter"])}]}
    # The paying client reads its payment but not its sync state.
    client = await _caller(finance_server, http_client, mint, "client", client_id=ids["client"])
    answer = await client(query, variables)
    [application] = answer.data["_entities"][0]["payments"]
    assert application["payment"]["amount"] == "40.00"
    assert application["payment"]["accountingSync"] is None
    assert answer.error_codes == ["FORBIDDEN"], answer.body
    # Sales support reads what was applied to the charter, not the payment behind it.
    support = await _caller(finance_server, http_client, mint, "sales_support")
    answer = await support(query, variables)
    [application] = answer.data["_entities"][0]["payments"]
    assert application == {"amount": "40.00", "payment": None}
    assert answer.error_codes == ["FORBIDDEN"], answer.body

    accounting = await _caller(finance_server, http_client, mint, "accounting")
    data = (await accounting(query, variables)).ok()
    assert data["_entities"][0]["payments"][0]["payment"]["accountingSync"]["status"] == "DEAD"


async def test_the_queue_pages_newest_first_and_filters_by_status(
    sessions, finance_server, http_client, mint
):
    ids = await _books(sessions)
    accounting = await _caller(finance_server, http_client, mint, "accounting")
    page = "pageInfo { hasNextPage endCursor } totalCount edges { node { entity entityId status } }"

    first = (await accounting(f"{{ syncRecords(first: 1) {{ {page} }} }}")).ok()["syncRecords"]
    rest = (
        await accounting(
            f"query($a: String) {{ syncRecords(first: 5, after: $a) {{ {page} }} }}",
            {"a": first["pageInfo"]["endCursor"]},
        )
    ).ok()["syncRecords"]
    dead = (await accounting(f"{{ syncRecords(status: DEAD) {{ {page} }} }}")).ok()["syncRecords"]

    assert first["totalCount"] == 2
    assert first["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["entity"] for e in first["edges"] + rest["edges"]] == ["PAYMENT", "INVOICE"]
    assert rest["pageInfo"]["hasNextPage"] is False
    assert [e["node"] for e in dead["edges"]] == [
        {"entity": "PAYMENT", "entityId": str(ids["payment"]), "status": "DEAD"}
    ]


RETRY = "mutation($id: ID!) { retrySync(id: $id) { record { id status attempts } userErrors { field code message } } }"


async def test_retry_sends_a_dead_letter_again_audited_and_refuses_a_live_one(
    sessions, finance_server, http_client, mint
):
    ids = await _books(sessions)
    user_id = uuid.uuid4()
    accounting = GraphQLClient(
        finance_server.graphql_url, http_client, await mint("accounting", user_id=user_id)
    )
    async with sessions() as session:
        dead_id = await session.scalar(
            select(SyncRecord.id).where(SyncRecord.entity_id == ids["payment"])
        )
        synced_id = await session.scalar(
            select(SyncRecord.id).where(SyncRecord.entity_id == ids["invoice"])
        )

    retried = (await accounting(RETRY, {"id": str(dead_id)})).ok()["retrySync"]
    refused = (await accounting(RETRY, {"id": str(synced_id)})).ok()["retrySync"]

    assert retried == {
        "record": {"id": str(dead_id), "status": "PENDING", "attempts": 0},
        "userErrors": [],
    }
    assert refused["record"] is None
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        ("id", "INVALID_TRANSITION")
    ]
    async with sessions() as session:
        record = await session.get(SyncRecord, dead_id)
        audit = (
            await session.scalars(select(FinanceAudit).where(FinanceAudit.entity_id == dead_id))
        ).all()
        still = await session.get(SyncRecord, synced_id)
    assert record is not None
    assert (record.status, record.attempts, record.locked_until) == ("pending", 0, None)
    assert [(a.action, a.actor_id, a.before, a.after) for a in audit] == [
        (
            "retried",
            user_id,
            {"status": "dead", "attempts": 8},
            {"status": "pending", "attempts": 0},
        )
    ]
    assert still is not None
    assert still.status == "synced"


RESOLVE = (
    "mutation($id: ID!, $r: String!) { resolveSyncConflict(id: $id, resolution: $r) "
    "{ conflict { id status resolution resolvedBy } userErrors { field code } } }"
)


async def test_a_held_conflict_is_listed_and_resolved_once_by_a_person(
    sessions, finance_server, http_client, mint
):
    ids = await _books(sessions)
    conflict_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(
            SyncConflict(
                id=conflict_id,
                entity="payment",
                entity_id=ids["payment"],
                qbo_id="12",
                operation="amount",
                detail={"athenaAmount": "40.00", "qboAmount": "45.00"},
            )
        )
    user_id = uuid.uuid4()
    accounting = GraphQLClient(
        finance_server.graphql_url, http_client, await mint("manager", user_id=user_id)
    )

    held = (
        await accounting("{ syncConflicts { id entity entityId qboId kind detail status } }")
    ).ok()["syncConflicts"]
    blank = (await accounting(RESOLVE, {"id": str(conflict_id), "r": "  "})).ok()
    done = (
        await accounting(RESOLVE, {"id": str(conflict_id), "r": "Corrected in QuickBooks"})
    ).ok()
    again = (await accounting(RESOLVE, {"id": str(conflict_id), "r": "twice"})).ok()
    after = (await accounting("{ syncConflicts { id } }")).ok()["syncConflicts"]
    resolved = (await accounting("{ syncConflicts(status: RESOLVED) { id } }")).ok()

    assert held == [
        {
            "id": str(conflict_id),
            "entity": "PAYMENT",
            "entityId": str(ids["payment"]),
            "qboId": "12",
            "kind": "amount",
            "detail": {"athenaAmount": "40.00", "qboAmount": "45.00"},
            "status": "HELD",
        }
    ]
    assert blank["resolveSyncConflict"]["userErrors"] == [
        {"field": "resolution", "code": "REQUIRED"}
    ]
    assert done["resolveSyncConflict"] == {
        "conflict": {
            "id": str(conflict_id),
            "status": "RESOLVED",
            "resolution": "Corrected in QuickBooks",
            "resolvedBy": str(user_id),
        },
        "userErrors": [],
    }
    assert again["resolveSyncConflict"]["userErrors"] == [
        {"field": "id", "code": "INVALID_TRANSITION"}
    ]
    assert after == []
    assert resolved["syncConflicts"] == [{"id": str(conflict_id)}]
    async with sessions() as session:
        audit = (
            await session.scalars(select(FinanceAudit).where(FinanceAudit.entity_id == conflict_id))
        ).all()
        row = await session.get(SyncConflict, conflict_id)
    assert [(a.action, a.actor_id, a.reason) for a in audit] == [
        ("resolved", user_id, "Corrected in QuickBooks")
    ]
    assert row is not None
    assert row.resolution == "Corrected in QuickBooks"
