"""Autopay (issue 14 §2): a client's saved method charged on due dates, never twice.

Setting it goes through the finance subgraph as each caller; the daily job
(`service/autopay.run_autopay`, `jobs.AUTOPAY`) is run for chosen days
against the local Stripe stand-in, twice in a row and twice at once.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from stack.card_sandbox import API_KEY, CARD_DECLINED, CARD_OK, WEBHOOK_SECRET
from subgraphs.finance import jobs
from subgraphs.finance.models import (
    AutopayAttempt,
    FinanceAudit,
    Payment,
    PaymentConfig,
    SavedPaymentMethod,
)
from subgraphs.finance.reports.common import today as operator_today
from subgraphs.finance.service import autopay, saved_methods
from subgraphs.finance.service.providers import payment_provider
from subgraphs.finance.service.stripe_provider import StripeProvider
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.settings import get_settings
from tests.finance.conftest import new_id
from tests.finance.test_refunds import ACCOUNTING, paid_of
from tests.support.graphql_client import GraphQLClient

SET = """mutation($client: ID!, $method: ID!) { setAutopay(clientId: $client,
  savedMethodId: $method) { autopay { enabled savedMethod { last4 } }
  userErrors { field code message } } }"""
DISABLE = """mutation($client: ID!) { disableAutopay(clientId: $client) {
  autopay { enabled } userErrors { field code } } }"""
READ = """query($r: [_Any!]!) { _entities(representations: $r) { ... on Client {
  autopay { enabled savedMethod { last4 } lastResult { result amount attemptedOn reason
  paymentId charter { id } } } } } }"""


def today():
    return operator_today(get_settings().operator_time_zone)


@pytest.fixture
def stripe(stripe_api, fake_stripe_api) -> StripeProvider:
    _, server = stripe_api
    return StripeProvider(
        API_KEY, WEBHOOK_SECRET, api_base=server.base_url, max_network_retries=0, timeout=10
    )


def intents(fake) -> list:
    return [r for r in fake.requests if r.path == "/v1/payment_intents"]


async def save_card(sessions, client: str, token: str, stripe) -> uuid.UUID:
    async with sessions() as session, session.begin():
        row = await saved_methods.save(session, uuid.UUID(client), token, True, ACCOUNTING, stripe)
    return row.id


async def card_on_file(sessions, client: str, token: str) -> uuid.UUID:
    """A card saved earlier, as `savePaymentMethod` left it: a token per client (Stripe's
    stand-in charges any token but its declined one)."""
    method_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(
            SavedPaymentMethod(
                id=method_id,
                client_id=uuid.UUID(client),
                provider="stripe",
                token=token,
                kind="card",
                brand="visa",
                last4="0002" if token == CARD_DECLINED else "4242",
                is_default=True,
            )
        )
    return method_id


async def autopay_client(sessions, booked, stripe, token=None, *, days=10, total="1000.00"):
    """A client with autopay on and a charter whose deposit is due today (pickup in `days`)."""
    client, charter = new_id(), new_id()
    await booked(charter, client, total, days=days)
    token = token or f"pm_card_visa_{client}"
    method = await card_on_file(sessions, client, token)
    async with sessions() as session, session.begin():
        await autopay.set_autopay(session, uuid.UUID(client), method, ACCOUNTING)
    return client, charter


async def attempts(sessions) -> list[AutopayAttempt]:
    async with sessions() as session:
        return list(
            await session.scalars(select(AutopayAttempt).order_by(AutopayAttempt.attempted_at))
        )


# --- setting it --------------------------------------------------------------------------


async def test_a_client_turns_autopay_on_and_off_with_its_own_card_audited(
    sessions, booked, stripe_finance_server, fake_stripe_api, http_client, mint, stripe_settings
):
    client, stranger = new_id(), new_id()
    await booked(new_id(), client, "500.00")
    await booked(new_id(), stranger, "500.00")
    provider = payment_provider(stripe_settings)
    card = await save_card(sessions, client, CARD_OK, provider)
    theirs = await save_card(sessions, stranger, CARD_DECLINED, provider)
    own = GraphQLClient(
        stripe_finance_server.graphql_url,
        http_client,
        await mint("client", client_id=uuid.UUID(client)),
    )

    wrong = (await own(SET, {"client": client, "method": str(theirs)})).ok()["setAutopay"]
    on = (await own(SET, {"client": client, "method": str(card)})).ok()["setAutopay"]
    read = (await own(READ, {"r": [{"__typename": "Client", "id": client}]})).ok()
    off = (await own(DISABLE, {"client": client})).ok()["disableAutopay"]

    assert wrong == {
        "autopay": None,
        "userErrors": [
            {
                "field": "savedMethodId",
                "code": "NOT_FOUND",
                "message": "The client has no such saved payment method.",
            }
        ],
    }
    assert on == {"autopay": {"enabled": True, "savedMethod": {"last4": "4242"}}, "userErrors": []}
    assert read["_entities"][0]["autopay"] == {
        "enabled": True,
        "savedMethod": {"last4": "4242"},
        "lastResult": None,
    }
    assert off == {"autopay": {"enabled": False}, "userErrors": []}
    async with sessions() as session:
        audit = list(
            await session.scalars(
                select(FinanceAudit)
                .where(FinanceAudit.entity == "autopay")
                .order_by(FinanceAudit.at, FinanceAudit.action.desc())
            )
        )
    assert [(a.entity_id, a.action) for a in audit] == [
        (uuid.UUID(client), "enable"),
        (uuid.UUID(client), "disable"),
    ]
    assert audit[0].after == {"enabled": True, "saved_method_id": str(card)}


async def test_who_may_set_autopay_and_read_it(
    sessions, booked, stripe_finance_server, fake_stripe_api, http_client, mint, stripe_settings
):
    client = new_id()
    await booked(new_id(), client, "500.00")
    card = await save_card(sessions, client, CARD_OK, payment_provider(stripe_settings))
    variables = {"client": client, "method": str(card)}
    readers = {"r": [{"__typename": "Client", "id": client}]}

    async def as_(token):
        return GraphQLClient(stripe_finance_server.graphql_url, http_client, token)

    accounting = await as_(await mint("accounting"))
    staff_set = (await accounting(SET, variables)).ok()["setAutopay"]
    staff_read = (await accounting(READ, readers)).ok()["_entities"][0]["autopay"]
    refused = {}
    for name, token in (
        ("other client", await mint("client", client_id=uuid.uuid4())),
        ("sales agent", await mint("sales_agent")),
        ("vendor", await mint("vendor")),
        ("driver", await mint("driver")),
        ("anonymous", None),
    ):
        caller = await as_(token)
        refused[name] = (
            await caller(SET, variables),
            await caller(DISABLE, {"client": client}),
            await caller(READ, readers),
        )

    assert staff_set["userErrors"] == []
    assert staff_read["enabled"] is True
    for name, (set_, disable, read) in refused.items():
        code = "UNAUTHENTICATED" if name == "anonymous" else "FORBIDDEN"
        assert set_.error_codes == [code], (name, set_.body)
        assert disable.error_codes == [code], (name, disable.body)
        assert read.error_codes == [code], (name, read.body)
        assert read.data["_entities"][0] == {"autopay": None}
    async with sessions() as session:
        assert (
            await session.scalar(select(func.count()).where(FinanceAudit.entity == "autopay")) == 1
        )


async def test_autopay_needs_the_configuration_to_allow_it(
    sessions, booked, stripe, fake_stripe_api
):
    client = new_id()
    await booked(new_id(), client, "500.00")
    card = await save_card(sessions, client, CARD_OK, stripe)
    async with sessions() as session, session.begin():
        await session.execute(update(PaymentConfig).values(autopay_allowed=False))

    with pytest.raises(ServiceError) as refused:
        async with sessions() as session, session.begin():
            await autopay.set_autopay(session, uuid.UUID(client), card, ACCOUNTING)

    assert [(p.code, p.field) for p in refused.value.problems] == [
        ("AUTOPAY_NOT_ALLOWED", "clientId")
    ]
    async with sessions() as session:
        assert (
            await session.scalar(select(func.count()).where(FinanceAudit.entity == "autopay")) == 0
        )
        await session.execute(update(PaymentConfig).values(autopay_allowed=True))
        await session.commit()


# --- the daily job -----------------------------------------------------------------------


async def test_the_job_charges_what_is_due_today_once_even_when_run_again(
    sessions, booked, stripe, fake_stripe_api
):
    client, charter = await autopay_client(sessions, booked, stripe)  # deposit 250 due today
    _, later = await autopay_client(sessions, booked, stripe, days=60)  # deposit due in 30 days
    without, manual = new_id(), new_id()
    await booked(manual, without, "1000.00", days=10)  # due today, but no autopay

    first = await autopay.run_autopay(sessions, today(), stripe)
    again = await autopay.run_autopay(sessions, today(), stripe)

    assert len(first.charged) == 1
    assert (again.charged, again.declined, again.failed) == ([], [], [])
    sent = intents(fake_stripe_api)
    assert len(sent) == 1
    assert sent[0].form["amount"] == "25000"
    assert sent[0].idempotency_key == autopay.attempt_key(uuid.UUID(first.charged[0]), today())
    assert await paid_of(sessions, uuid.UUID(charter)) == Decimal("250.00")
    assert await paid_of(sessions, uuid.UUID(later)) == Decimal("0.00")
    assert await paid_of(sessions, uuid.UUID(manual)) == Decimal("0.00")
    made = await attempts(sessions)
    assert [(a.client_id, a.status, a.amount) for a in made] == [
        (uuid.UUID(client), "succeeded", Decimal("250.00"))
    ]
    async with sessions() as session:
        payment = await session.get(Payment, made[0].payment_id)
        assert (payment.method, payment.created_by, payment.saved_method_id) == (
            "card",
            None,
            made[0].saved_method_id,
        )


async def test_two_runs_at_once_charge_each_instalment_once(
    sessions, booked, stripe, fake_stripe_api
):
    charters = [(await autopay_client(sessions, booked, stripe))[1] for _ in range(3)]

    one, two = await asyncio.gather(
        autopay.run_autopay(sessions, today(), stripe),
        autopay.run_autopay(sessions, today(), stripe),
    )

    assert sorted(one.charged + two.charged) == sorted(
        {*one.charged, *two.charged}
    )  # nothing charged by both
    assert len(one.charged) + len(two.charged) == 3
    assert len(intents(fake_stripe_api)) == 3
    assert [a.status for a in await attempts(sessions)] == ["succeeded"] * 3
    for charter in charters:
        assert await paid_of(sessions, uuid.UUID(charter)) == Decimal("250.00")
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 3


async def test_an_overdue_instalment_is_charged_on_a_later_day(
    sessions, booked, stripe, fake_stripe_api
):
    _, charter = await autopay_client(sessions, booked, stripe, days=3)  # balance due tomorrow

    today_run = await autopay.run_autopay(sessions, today(), stripe)
    days_later = await autopay.run_autopay(sessions, today() + timedelta(days=5), stripe)

    assert len(today_run.charged) == 1  # the deposit
    assert len(days_later.charged) == 1  # the balance, overdue by then
    assert await paid_of(sessions, uuid.UUID(charter)) == Decimal("1000.00")
    assert [r.form["amount"] for r in intents(fake_stripe_api)] == ["25000", "75000"]


async def test_a_declined_charge_is_recorded_shown_and_not_retried_that_day(
    sessions,
    booked,
    stripe,
    fake_stripe_api,
    stripe_finance_server,
    http_client,
    mint,
):
    client, charter = await autopay_client(sessions, booked, stripe, token=CARD_DECLINED)

    first = await autopay.run_autopay(sessions, today(), stripe)
    same_day = await autopay.run_autopay(sessions, today(), stripe)
    next_day = await autopay.run_autopay(sessions, today() + timedelta(days=1), stripe)
    readers = {"r": [{"__typename": "Client", "id": client}]}
    own = GraphQLClient(
        stripe_finance_server.graphql_url,
        http_client,
        await mint("client", client_id=uuid.UUID(client)),
    )
    staff = GraphQLClient(stripe_finance_server.graphql_url, http_client, await mint("accounting"))
    seen_by_client = (await own(READ, readers)).ok()["_entities"][0]["autopay"]
    seen_by_staff = (await staff(READ, readers)).ok()["_entities"][0]["autopay"]

    assert (len(first.declined), same_day.declined, len(next_day.declined)) == (1, [], 1)
    keys = [r.idempotency_key for r in intents(fake_stripe_api)]
    assert len(keys) == 2  # today's once, tomorrow's once
    assert len(set(keys)) == 2
    assert await paid_of(sessions, uuid.UUID(charter)) == Decimal("0.00")
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 0
    assert seen_by_client == {
        "enabled": True,
        "savedMethod": {"last4": "0002"},
        "lastResult": {
            "result": "DECLINED",
            "amount": "250.00",
            "attemptedOn": (today() + timedelta(days=1)).isoformat(),
            "reason": "Your card was declined.",
            "paymentId": None,
            "charter": {"id": charter},
        },
    }
    assert seen_by_staff == seen_by_client


async def test_an_unreachable_provider_leaves_the_instalment_for_the_retry(
    sessions, booked, stripe, fake_stripe_api
):
    _, charter = await autopay_client(sessions, booked, stripe)
    fake_stripe_api.outage = True
    down = await autopay.run_autopay(sessions, today(), stripe)
    fake_stripe_api.outage = False
    retried = await autopay.run_autopay(sessions, today(), stripe)

    assert (len(down.unavailable), down.charged) == (1, [])
    assert len(retried.charged) == 1
    assert await paid_of(sessions, uuid.UUID(charter)) == Decimal("250.00")
    keys = {r.idempotency_key for r in intents(fake_stripe_api)}
    assert len(keys) == 1  # the retry used the same key


async def test_nothing_is_charged_when_autopay_is_off_or_not_allowed(
    sessions, booked, stripe, fake_stripe_api
):
    client, charter = await autopay_client(sessions, booked, stripe)
    async with sessions() as session, session.begin():
        await session.execute(update(PaymentConfig).values(autopay_allowed=False))
    not_allowed = await autopay.run_autopay(sessions, today(), stripe)
    async with sessions() as session, session.begin():
        await session.execute(update(PaymentConfig).values(autopay_allowed=True))
        await autopay.disable_autopay(session, uuid.UUID(client), ACCOUNTING)
    disabled = await autopay.run_autopay(sessions, today(), stripe)

    assert not_allowed.skipped is True
    assert disabled.charged == []
    assert intents(fake_stripe_api) == []
    assert await paid_of(sessions, uuid.UUID(charter)) == Decimal("0.00")


async def test_the_scheduled_job_charges_through_the_configured_provider(
    sessions, booked, stripe, fake_stripe_api, stripe_settings
):
    _, charter = await autopay_client(sessions, booked, stripe)
    [job] = jobs.autopay_jobs(stripe_settings)
    services = SimpleNamespace(sessions=sessions, settings=stripe_settings)
    zone = ZoneInfo(stripe_settings.operator_time_zone)
    due = datetime.combine(today(), time(7), tzinfo=zone)

    await job.body(services, due)
    _, down = await autopay_client(sessions, booked, stripe)
    fake_stripe_api.outage = True
    with pytest.raises(RuntimeError, match="did not answer for 1 instalments"):
        await job.body(services, due)  # the runner retries it

    assert await paid_of(sessions, uuid.UUID(charter)) == Decimal("250.00")
    assert await paid_of(sessions, uuid.UUID(down)) == Decimal("0.00")


async def test_removing_the_saved_method_turns_autopay_off(
    sessions, booked, stripe, fake_stripe_api
):
    client, charter = await autopay_client(sessions, booked, stripe)
    async with sessions() as session:
        [method] = await session.scalars(
            select(SavedPaymentMethod.id).where(SavedPaymentMethod.client_id == uuid.UUID(client))
        )
    async with sessions() as session, session.begin():
        await saved_methods.remove(session, method, ACCOUNTING)
    async with sessions() as session:
        state = (await autopay.autopay_of(session, [uuid.UUID(client)]))[uuid.UUID(client)]

    run = await autopay.run_autopay(sessions, today(), stripe)

    assert state.saved_method_id is None
    assert run.charged == []
    assert intents(fake_stripe_api) == []
    assert await paid_of(sessions, uuid.UUID(charter)) == Decimal("0.00")


def test_the_autopay_job_is_scheduled_daily(settings):
    scheduled = {job.name: job.cron for job in jobs.autopay_jobs(settings)}

    assert scheduled[jobs.AUTOPAY] == settings.finance_autopay_cron == "0 7 * * *"
