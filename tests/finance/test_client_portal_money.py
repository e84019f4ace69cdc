"""The client portal's money (issue 14 §2): dashboard fields, paying from the plan, paid in full.

Plans come from the facts the other subgraphs announce (`booked`): a 25 %
deposit due 30 days before pickup (today, when closer) and the balance 2
days before. Paying goes through a finance app configured for the local
Stripe stand-in (`stripe_finance_server`).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import func, select

from db.engine import record_statements
from stack.card_sandbox import API_KEY, CARD_DECLINED, CARD_OK, WEBHOOK_SECRET
from subgraphs.finance.models import Payment, PaymentApplication
from subgraphs.finance.reports.common import today as operator_today
from subgraphs.finance.service import (
    applications,
    autopay,
    client_portal,
    payments,
    saved_methods,
)
from subgraphs.finance.service.providers import payment_provider
from subgraphs.finance.service.stripe_provider import StripeProvider
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.settings import get_settings
from tests.finance.conftest import new_id
from tests.finance.test_refunds import ACCOUNTING, paid_of
from tests.support.graphql_client import GraphQLClient

DASHBOARD = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Client {
  nextPaymentDue { amount dueOn kind charter { id } }
  recentPayments(first: 5) { id amount receivedOn method charters { id } }
  receivables { outstanding } } } }"""
CONFIRMATION = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Charter {
  paidInFull paidInFullAt balance { outstanding } } } }"""
PAY = """mutation($input: PayFromPlanInput!) { payFromPlan(input: $input) {
  payment { id amount method providerStatus } userErrors { field code message } } }"""


def client_of(client: str) -> dict:
    return {"r": [{"__typename": "Client", "id": client}]}


def charter_of(charter: str) -> dict:
    return {"r": [{"__typename": "Charter", "id": charter}]}


async def check(sessions, client: str, amount: str, charter: str, on=None) -> uuid.UUID:
    """A check received (on `on`, default today) and applied to the charter."""
    today = operator_today(get_settings().operator_time_zone)
    async with sessions() as session, session.begin():
        row = await payments.record(
            session,
            payments.PaymentInput(
                uuid.UUID(client), Decimal(amount), on or today, "check", {"checkNumber": "9"}
            ),
            ACCOUNTING,
            today,
        )
        await applications.apply(
            session,
            applications.Application(
                row.id, uuid.UUID(charter), Decimal(amount), f"chk-{uuid.uuid4()}"
            ),
            ACCOUNTING,
        )
    return row.id


async def test_the_next_payment_due_is_the_earliest_unpaid_instalment_across_charters(
    sessions, booked
):
    client, near, far = new_id(), new_id(), new_id()
    await booked(far, client, "2000.00", days=90)  # deposit 500 due in 60 days
    await booked(near, client, "1000.00", days=45)  # deposit 250 due in 15 days
    today = operator_today(get_settings().operator_time_zone)

    async with sessions() as session:
        first = (await client_portal.next_payments_due(session, [uuid.UUID(client)], today))[
            uuid.UUID(client)
        ]
    await check(sessions, client, "100.00", near)
    async with sessions() as session:
        part = (await client_portal.next_payments_due(session, [uuid.UUID(client)], today))[
            uuid.UUID(client)
        ]
    await check(sessions, client, "150.00", near)
    async with sessions() as session:
        then = (await client_portal.next_payments_due(session, [uuid.UUID(client)], today))[
            uuid.UUID(client)
        ]
        nobody = await client_portal.next_payments_due(session, [uuid.uuid4()], today)

    assert (str(first.charter_id), first.kind, first.amount) == (near, "deposit", Decimal("250.00"))
    assert first.due_on == today + timedelta(days=15)
    assert (str(part.charter_id), part.amount) == (near, Decimal("150.00"))
    # The near deposit paid: the near balance (in 43 days) before the far deposit (in 60).
    assert (str(then.charter_id), then.kind, then.amount) == (near, "balance", Decimal("750.00"))
    assert list(nobody.values()) == [None]


async def test_a_client_reads_its_dashboard_money_and_no_one_elses(
    sessions, booked, finance_server, http_client, mint
):
    client, charter, other = new_id(), new_id(), new_id()
    await booked(charter, client, "1000.00", days=60)
    await booked(other, client, "400.00", days=90)
    today = operator_today(get_settings().operator_time_zone)
    older = await check(sessions, client, "100.00", charter, on=today - timedelta(days=3))
    newer = await check(sessions, client, "50.00", other)

    async def as_(role, **who):
        token = await mint(role, **who) if role else None
        return GraphQLClient(finance_server.graphql_url, http_client, token)

    own = await (await as_("client", client_id=uuid.UUID(client)))(DASHBOARD, client_of(client))
    staff = await (await as_("accounting"))(DASHBOARD, client_of(client))
    refused = {
        name: await (await as_(role, **who))(DASHBOARD, client_of(client))
        for name, role, who in (
            ("other client", "client", {"client_id": uuid.uuid4()}),
            ("other agent", "sales_agent", {"user_id": uuid.uuid4()}),
            ("vendor", "vendor", {}),
            ("driver", "driver", {}),
            ("anonymous", None, {}),
        )
    }

    mine = own.ok()["_entities"][0]
    assert mine["nextPaymentDue"] == {
        "amount": "150.00",  # the 250 deposit less the 100 check
        "dueOn": (today + timedelta(days=30)).isoformat(),
        "kind": "DEPOSIT",
        "charter": {"id": charter},
    }
    assert mine["recentPayments"] == [
        {
            "id": str(newer),
            "amount": "50.00",
            "receivedOn": today.isoformat(),
            "method": "CHECK",
            "charters": [{"id": other}],
        },
        {
            "id": str(older),
            "amount": "100.00",
            "receivedOn": (today - timedelta(days=3)).isoformat(),
            "method": "CHECK",
            "charters": [{"id": charter}],
        },
    ]
    assert mine["receivables"] == {"outstanding": "1250.00"}
    assert staff.ok()["_entities"][0] == mine
    for name, answer in refused.items():
        entity = answer.data["_entities"][0]
        expected = "UNAUTHENTICATED" if name == "anonymous" else "FORBIDDEN"
        assert entity == {"nextPaymentDue": None, "recentPayments": None, "receivables": None}, name
        assert answer.error_codes == [expected] * 3, (name, answer.body)


async def test_recent_payments_are_the_newest_first_and_leave_out_refunds_and_failures(
    sessions, booked
):
    client, charter = new_id(), new_id()
    await booked(charter, client, "5000.00")
    today = operator_today(get_settings().operator_time_zone)
    made = [
        await check(sessions, client, "10.00", charter, on=today - timedelta(days=n))
        for n in range(7, 0, -1)
    ]
    async with sessions() as session, session.begin():
        failed = await session.get(Payment, made[-1])
        failed.provider_status = "failed"

    async with sessions() as session:
        recent = (await client_portal.recent_payments(session, [uuid.UUID(client)], 5))[
            uuid.UUID(client)
        ]

    # Newest first; the failed charge (the newest) is not a payment the client made.
    assert [r.id for r in recent] == list(reversed(made[:-1]))[:5]


async def test_the_dashboard_costs_the_same_statements_for_two_clients_or_five(
    sessions, booked, finance_server, http_client, mint
):
    accounting = GraphQLClient(finance_server.graphql_url, http_client, await mint("accounting"))
    clients = []
    for _ in range(5):
        client, charter = new_id(), new_id()
        await booked(charter, client, "800.00")
        await check(sessions, client, "80.00", charter)
        clients.append(client)

    async def statements(some: list[str]) -> int:
        with record_statements() as recorder:
            answer = await accounting(
                DASHBOARD, {"r": [{"__typename": "Client", "id": c} for c in some]}
            )
        assert [e["nextPaymentDue"]["amount"] for e in answer.ok()["_entities"]] == [
            "120.00"
        ] * len(some)
        return len([s for s in recorder.statements if "finance." in s])

    two, five = await statements(clients[:2]), await statements(clients)

    assert two == five
    assert 0 < five <= 10


def test_paid_in_full_is_the_last_moment_the_running_total_reached_the_price():
    t = [datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=n) for n in range(6)]

    def row(amount: str, at, unapplied=None):
        return SimpleNamespace(amount=Decimal(amount), applied_at=at, unapplied_at=unapplied)

    straight = [row("300.00", t[0]), row("700.00", t[1])]
    refunded_and_paid_again = [
        row("1000.00", t[0]),
        row("-200.00", t[2]),  # a refund's negative application
        row("200.00", t[3]),
    ]
    taken_back = [row("1000.00", t[0], unapplied=t[1]), row("1000.00", t[4])]

    assert client_portal.paid_in_full(Decimal(1000), Decimal(1000), straight) == (
        client_portal.PaidInFull(True, t[1])
    )
    assert client_portal.paid_in_full(
        Decimal(1000), Decimal(1000), refunded_and_paid_again
    ) == client_portal.PaidInFull(True, t[3])
    assert client_portal.paid_in_full(Decimal(1000), Decimal(1000), taken_back) == (
        client_portal.PaidInFull(True, t[4])
    )
    assert client_portal.paid_in_full(Decimal(1000), Decimal(999), straight[:1]) == (
        client_portal.PaidInFull(False, None)
    )
    # A quote (no accepted price) is not "paid in full".
    assert client_portal.paid_in_full(Decimal(0), Decimal(0), []).paid is False


async def test_zero_balance_shows_as_a_confirmation_on_the_charter(
    sessions, booked, finance_server, http_client, mint
):
    client, agent, charter = new_id(), new_id(), new_id()
    await booked(charter, client, "600.00", agent_id=agent)
    own = GraphQLClient(
        finance_server.graphql_url,
        http_client,
        await mint("client", client_id=uuid.UUID(client)),
    )
    before = (await own(CONFIRMATION, charter_of(charter))).ok()["_entities"][0]
    await check(sessions, client, "200.00", charter)
    await check(sessions, client, "400.00", charter)
    after = (await own(CONFIRMATION, charter_of(charter))).ok()["_entities"][0]
    async with sessions() as session:
        cleared = await session.scalar(
            select(func.max(PaymentApplication.applied_at)).where(
                PaymentApplication.charter_id == uuid.UUID(charter)
            )
        )
    others = {
        name: await GraphQLClient(finance_server.graphql_url, http_client, token)(
            CONFIRMATION, charter_of(charter)
        )
        for name, token in (
            ("other client", await mint("client", client_id=uuid.uuid4())),
            ("other agent", await mint("sales_agent", user_id=uuid.uuid4())),
            ("vendor", await mint("vendor")),
            ("driver", await mint("driver")),
            ("anonymous", None),
        )
    }
    agent_view = await GraphQLClient(
        finance_server.graphql_url,
        http_client,
        await mint("sales_agent", user_id=uuid.UUID(agent)),
    )(CONFIRMATION, charter_of(charter))

    assert before == {
        "paidInFull": False,
        "paidInFullAt": None,
        "balance": {"outstanding": "600.00"},
    }
    assert after["paidInFull"] is True
    assert after["balance"] == {"outstanding": "0.00"}
    assert datetime.fromisoformat(after["paidInFullAt"]) == cleared
    assert agent_view.ok()["_entities"][0] == after
    for name, answer in others.items():
        expected = "UNAUTHENTICATED" if name == "anonymous" else "FORBIDDEN"
        assert answer.data["_entities"][0] == {
            "paidInFull": None,
            "paidInFullAt": None,
            "balance": None,
        }, name
        assert answer.error_codes == [expected] * 3, (name, answer.body)


# --- paying from the plan ----------------------------------------------------------------


def stripe_provider(stripe_api) -> StripeProvider:
    _, server = stripe_api
    return StripeProvider(
        API_KEY, WEBHOOK_SECRET, api_base=server.base_url, max_network_retries=0, timeout=10
    )


def intents(fake) -> list:
    return [r for r in fake.requests if r.path == "/v1/payment_intents"]


async def test_a_client_pays_its_deposit_then_its_balance_from_the_plan(
    sessions, booked, stripe_finance_server, fake_stripe_api, http_client, mint, stripe_settings
):
    client, charter = new_id(), new_id()
    await booked(charter, client, "1000.00")
    async with sessions() as session, session.begin():
        card = await saved_methods.save(
            session, uuid.UUID(client), CARD_OK, True, ACCOUNTING, payment_provider(stripe_settings)
        )
    own = GraphQLClient(
        stripe_finance_server.graphql_url,
        http_client,
        await mint("client", client_id=uuid.UUID(client)),
    )
    deposit = {
        "charterId": charter,
        "part": "DEPOSIT",
        "paymentMethodToken": CARD_OK,
        "idempotencyKey": f"dep-{charter}",
    }

    paid_deposit = (await own(PAY, {"input": deposit})).ok()["payFromPlan"]
    resent = (await own(PAY, {"input": deposit})).ok()["payFromPlan"]
    deposit_again = (await own(PAY, {"input": {**deposit, "idempotencyKey": "dep-2"}})).ok()[
        "payFromPlan"
    ]
    paid_balance = (
        await own(
            PAY,
            {
                "input": {
                    "charterId": charter,
                    "part": "BALANCE",
                    "savedMethodId": str(card.id),
                    "idempotencyKey": "bal-1",
                }
            },
        )
    ).ok()["payFromPlan"]
    confirmation = (await own(CONFIRMATION, charter_of(charter))).ok()["_entities"][0]

    assert paid_deposit["userErrors"] == []
    assert paid_deposit["payment"]["amount"] == "250.00"
    assert resent["payment"]["id"] == paid_deposit["payment"]["id"]
    assert deposit_again == {
        "payment": None,
        "userErrors": [
            {"field": "part", "code": "NOT_PAYABLE", "message": "Nothing is owed of the deposit."}
        ],
    }
    assert paid_balance["userErrors"] == []
    assert paid_balance["payment"]["amount"] == "750.00"
    assert [r.form["amount"] for r in intents(fake_stripe_api)] == ["25000", "75000"]
    assert confirmation["paidInFull"] is True
    assert await paid_of(sessions, uuid.UUID(charter)) == Decimal("1000.00")


async def test_a_declined_card_changes_nothing_and_strangers_are_refused(
    sessions, booked, stripe_finance_server, fake_stripe_api, http_client, mint
):
    client, charter = new_id(), new_id()
    await booked(charter, client, "1000.00")
    given = {
        "charterId": charter,
        "part": "BALANCE",
        "paymentMethodToken": CARD_DECLINED,
        "idempotencyKey": "declined-1",
    }

    async def as_(token):
        return GraphQLClient(stripe_finance_server.graphql_url, http_client, token)

    own = await as_(await mint("client", client_id=uuid.UUID(client)))
    declined = (await own(PAY, {"input": given})).ok()["payFromPlan"]
    ok = {**given, "paymentMethodToken": CARD_OK, "idempotencyKey": "ok-1"}
    refused = {
        name: await (await as_(token))(PAY, {"input": ok})
        for name, token in (
            ("other client", await mint("client", client_id=uuid.uuid4())),
            ("sales agent", await mint("sales_agent")),
            ("vendor", await mint("vendor")),
            ("driver", await mint("driver")),
            ("anonymous", None),
        )
    }

    assert declined == {
        "payment": None,
        "userErrors": [
            {
                "field": "paymentMethodToken",
                "code": "DECLINED",
                "message": "Your card was declined.",
            }
        ],
    }
    for name, answer in refused.items():
        expected = "UNAUTHENTICATED" if name == "anonymous" else "FORBIDDEN"
        assert answer.error_codes == [expected], (name, answer.body)
    assert len(intents(fake_stripe_api)) == 1  # the declined one; no stranger reached Stripe
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 0
    assert await paid_of(sessions, uuid.UUID(charter)) == Decimal("0.00")


async def test_the_balance_is_what_is_left_and_two_deposits_at_once_pay_one(
    sessions, booked, stripe_api, fake_stripe_api
):
    client, charter = new_id(), new_id()
    await booked(charter, client, "1000.00")
    stripe = stripe_provider(stripe_api)
    today = operator_today(get_settings().operator_time_zone)

    async def pay(part, key):
        try:
            async with sessions() as session, session.begin():
                return await autopay.pay_from_plan(
                    session,
                    uuid.UUID(charter),
                    part,
                    key,
                    ACCOUNTING,
                    today,
                    stripe,
                    payment_method_token=CARD_OK,
                )
        except ServiceError as error:
            return error

    both = await asyncio.gather(
        pay(autopay.PlanPart.DEPOSIT, "d-1"), pay(autopay.PlanPart.DEPOSIT, "d-2")
    )
    await check(sessions, client, "100.00", charter)
    rest = await pay(autopay.PlanPart.BALANCE, "b-1")
    nothing = await pay(autopay.PlanPart.NEXT_INSTALMENT, "n-1")

    payments_made = [p for p in both if isinstance(p, Payment)]
    refusals = [e for e in both if isinstance(e, ServiceError)]
    assert [p.amount for p in payments_made] == [Decimal("250.00")]
    assert [(p.code, p.field) for e in refusals for p in e.problems] == [("NOT_PAYABLE", "part")]
    assert rest.amount == Decimal("650.00")  # 1000 less the 250 deposit and the 100 check
    assert [(p.code, p.field) for p in nothing.problems] == [("NOT_PAYABLE", "part")]
    assert await paid_of(sessions, uuid.UUID(charter)) == Decimal("1000.00")
    assert [r.form["amount"] for r in intents(fake_stripe_api)] == ["25000", "65000"]
