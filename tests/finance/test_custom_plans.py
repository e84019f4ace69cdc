"""Custom instalments (issue 12 §1): the unpaid part of a plan replaced; what is paid stays covered."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from subgraphs.finance.models import FinanceAudit, Instalment, PaymentPlan
from subgraphs.finance.service import custom_plans, plans
from subgraphs.kit.errors import ServiceError
from tests.finance.test_refunds import ACCOUNTING, check_paying, make_charter, make_client
from tests.support.graphql_client import GraphQLClient

TODAY = date(2026, 11, 30)
PICKUP = date(2027, 3, 1)


async def planned(sessions, total: str, paid: str | None = None):
    """A charter with the configuration's plan (deposit 25 %, balance) and `paid` applied."""
    client = await make_client(sessions)
    charter = await make_charter(sessions, client, total)
    async with sessions() as session, session.begin():
        await plans.plan(session, charter, client, Decimal(total), PICKUP, TODAY)
    if paid:
        await check_paying(sessions, client, paid, (charter, paid))
    return client, charter


async def instalments(sessions, charter) -> list[tuple[str, Decimal, date]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Instalment).where(Instalment.charter_id == charter).order_by(Instalment.sequence)
        )
        return [(r.kind, r.amount, r.due_on) for r in rows]


def due(amount: str, days: int, kind: str = "instalment") -> custom_plans.NewInstalment:
    return custom_plans.NewInstalment(Decimal(amount), TODAY + timedelta(days=days), kind)


async def test_the_unpaid_part_is_replaced_and_what_is_paid_stays_covered(sessions):
    _, charter = await planned(sessions, "1000.00", paid="300.00")
    assert await instalments(sessions, charter) == [
        ("deposit", Decimal("250.00"), PICKUP - timedelta(days=30)),
        ("balance", Decimal("750.00"), PICKUP - timedelta(days=2)),
    ]

    async with sessions() as session, session.begin():
        plan = await custom_plans.set_plan(
            session, charter, [due("350.00", 30), due("350.00", 60, "balance")], ACCOUNTING, TODAY
        )

    assert plan.version == 2
    assert await instalments(sessions, charter) == [
        ("deposit", Decimal("250.00"), PICKUP - timedelta(days=30)),
        ("balance", Decimal("50.00"), PICKUP - timedelta(days=2)),
        ("instalment", Decimal("350.00"), TODAY + timedelta(days=30)),
        ("balance", Decimal("350.00"), TODAY + timedelta(days=60)),
    ]
    async with sessions() as session:
        audit = await session.scalar(
            select(FinanceAudit).where(
                FinanceAudit.entity_id == charter, FinanceAudit.action == "custom_plan"
            )
        )
        assert audit.reason == "custom"
        assert audit.actor_id == ACCOUNTING.user_id
        assert audit.before["version"] == 1
        assert [row[1] for row in audit.after["instalments"]] == [
            "250.00",
            "50.00",
            "350.00",
            "350.00",
        ]


async def test_instalments_that_do_not_sum_to_what_is_unpaid_change_nothing(sessions):
    _, charter = await planned(sessions, "1000.00", paid="300.00")
    before = await instalments(sessions, charter)

    with pytest.raises(ServiceError) as short:
        async with sessions() as session, session.begin():
            await custom_plans.set_plan(session, charter, [due("1000.00", 30)], ACCOUNTING, TODAY)
    with pytest.raises(ServiceError) as bad:
        async with sessions() as session, session.begin():
            await custom_plans.set_plan(
                session, charter, [due("700.005", 10), due("0.00", -1)], ACCOUNTING, TODAY
            )

    assert [(p.code, p.field) for p in short.value.problems] == [("PLAN_TOTAL", "instalments")]
    assert "leaves 700.00 to plan" in short.value.problems[0].message
    assert {(p.code, p.field) for p in bad.value.problems} == {
        ("INVALID", "instalments[0].amount"),
        ("OUT_OF_RANGE", "instalments[1].amount"),
        ("INVALID", "instalments[1].dueOn"),
    }
    assert await instalments(sessions, charter) == before
    async with sessions() as session:
        assert (await session.get(PaymentPlan, charter)).version == 1


SET = """mutation($id: ID!, $items: [InstalmentInput!]!) { setPaymentPlan(charterId: $id,
  instalments: $items) { paymentPlan { version } userErrors { field code message } } }"""
PLAN = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Charter {
  paymentPlan { version total instalments { sequence kind amount dueOn paid } } } } }"""


async def test_set_payment_plan_and_who_reads_the_plan(sessions, finance_server, http_client, mint):
    client, charter = await planned(sessions, "1000.00", paid="300.00")
    accounting = GraphQLClient(finance_server.graphql_url, http_client, await mint("accounting"))
    later = (TODAY + timedelta(days=400)).isoformat()
    reps = {"r": [{"__typename": "Charter", "id": str(charter)}]}

    answer = (
        await accounting(SET, {"id": str(charter), "items": [{"amount": "700.00", "dueOn": later}]})
    ).ok()["setPaymentPlan"]
    own = await accounting(PLAN, reps, token=await mint("client", client_id=client))
    refused = {
        role: (
            await accounting(
                PLAN,
                reps,
                token=await mint(role, client_id=uuid.uuid4() if role == "client" else None),
            )
        ).error_codes
        for role in ("client", "vendor", "driver", "sales_agent")
    }
    as_client = await accounting(
        SET,
        {"id": str(charter), "items": [{"amount": "700.00", "dueOn": later}]},
        token=await mint("client", client_id=client),
    )

    assert answer == {"paymentPlan": {"version": 2}, "userErrors": []}
    assert own.ok()["_entities"][0]["paymentPlan"] == {
        "version": 2,
        "total": "1000.00",
        "instalments": [
            {
                "sequence": 1,
                "kind": "DEPOSIT",
                "amount": "250.00",
                "dueOn": (PICKUP - timedelta(days=30)).isoformat(),
                "paid": "250.00",
            },
            {
                "sequence": 2,
                "kind": "BALANCE",
                "amount": "50.00",
                "dueOn": (PICKUP - timedelta(days=2)).isoformat(),
                "paid": "50.00",
            },
            {
                "sequence": 3,
                "kind": "INSTALMENT",
                "amount": "700.00",
                "dueOn": later,
                "paid": "0.00",
            },
        ],
    }
    assert refused == {role: ["FORBIDDEN"] for role in refused}
    assert as_client.error_codes == ["FORBIDDEN"]
