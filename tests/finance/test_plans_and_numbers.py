"""Payment plans from the configuration, facts from other subgraphs' events, gapless numbers."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from subgraphs.finance.models import FinanceAudit, Instalment, PaymentConfig, PaymentPlan
from subgraphs.finance.service import facts, numbers, plans

CONFIG = PaymentConfig(
    id=1, deposit_percent=Decimal(25), deposit_days_before=30, balance_days_before=2
)
TODAY = date(2026, 11, 30)


def test_seed_schedule_deposit_25_percent_30_days_before_balance_2_days_before():
    dues = plans.schedule(Decimal("1000.00"), date(2027, 3, 1), TODAY, CONFIG)

    assert [(d.kind, d.amount, d.due_on) for d in dues] == [
        ("deposit", Decimal("250.00"), date(2027, 1, 30)),
        ("balance", Decimal("750.00"), date(2027, 2, 27)),
    ]


def test_booking_inside_30_days_puts_the_deposit_due_at_once_and_amounts_are_exact():
    dues = plans.schedule(Decimal("999.99"), TODAY + timedelta(days=10), TODAY, CONFIG)

    assert dues[0].due_on == TODAY
    assert dues[0].amount == Decimal("250.00")  # 249.9975 rounded half-up
    assert sum(d.amount for d in dues) == Decimal("999.99")


def _event(payload: dict, at: datetime | None = None) -> dict:
    return {"occurredAt": (at or datetime.now(UTC)).isoformat(), "payload": payload}


async def test_a_booked_charter_with_its_accepted_price_gets_a_plan_in_either_order(sessions):
    pickup = datetime.now(UTC) + timedelta(days=90)
    first, second = uuid.uuid4(), uuid.uuid4()
    booked = lambda c: _event(  # noqa: E731
        {
            "charterId": str(c),
            "status": "booked",
            "pickupAt": pickup.isoformat(),
            "reference": "CH-2027-000001",
            "clientId": str(uuid.uuid4()),
        }
    )

    def accepted(c):
        return _event({"charterId": str(c), "total": "1114.50", "tax": "0.00", "lines": []})

    async with sessions() as session, session.begin():
        await facts.apply_charter_event(session, booked(first))
        await facts.apply_quote_accepted(session, accepted(first))
        await facts.apply_quote_accepted(session, accepted(second))
        await facts.apply_charter_event(session, booked(second))

    async with sessions() as session:
        rows = (
            await session.execute(select(Instalment.charter_id, Instalment.kind, Instalment.amount))
        ).all()
    for charter in (first, second):
        assert sorted((k, a) for c, k, a in rows if c == charter) == [
            ("balance", Decimal("835.87")),
            ("deposit", Decimal("278.63")),  # 25 % of 1,114.50 = 278.625, half-up
        ]


async def test_a_new_accepted_price_replans_and_says_so(sessions):
    charter = uuid.uuid4()
    pickup = datetime.now(UTC) + timedelta(days=90)
    async with sessions() as session, session.begin():
        await facts.apply_charter_event(
            session,
            _event({"charterId": str(charter), "status": "booked", "pickupAt": pickup.isoformat()}),
        )
        await facts.apply_quote_accepted(
            session, _event({"charterId": str(charter), "total": "800.00"})
        )
        await facts.apply_quote_accepted(
            session, _event({"charterId": str(charter), "total": "1000.00"})
        )

    async with sessions() as session:
        plan = await session.get(PaymentPlan, charter)
        amounts = sorted((await session.scalars(select(Instalment.amount))).all())
        actions = (
            await session.scalars(select(FinanceAudit.action).order_by(FinanceAudit.at))
        ).all()
    assert (plan.total, plan.version) == (Decimal("1000.00"), 2)
    assert amounts == [Decimal("250.00"), Decimal("750.00")]
    assert actions == ["plan", "replan"]


async def test_an_older_charter_event_changes_nothing_and_quotes_get_no_plan(sessions):
    charter = uuid.uuid4()
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        await facts.apply_charter_event(
            session,
            _event(
                {
                    "charterId": str(charter),
                    "status": "quote",
                    "pickupAt": (now + timedelta(days=40)).isoformat(),
                },
                now,
            ),
        )
        await facts.apply_quote_accepted(
            session, _event({"charterId": str(charter), "total": "500.00"})
        )
        await facts.apply_charter_event(
            session,
            _event({"charterId": str(charter), "status": "cancelled"}, now - timedelta(hours=1)),
        )

    async with sessions() as session:
        assert await session.get(PaymentPlan, charter) is None


async def test_numbers_are_gapless_under_concurrency_and_a_rollback_gives_its_number_back(sessions):
    async def take(commit: bool = True) -> str:
        async with sessions() as session:
            async with session.begin():
                number = await numbers.next_number(session, "invoice", 2026)
                if not commit:
                    await session.rollback()
            return number

    taken = await asyncio.gather(*(take() for _ in range(20)))
    lost = await take(commit=False)
    after = await take()

    assert sorted(taken) == [f"INV-2026-{n:05d}" for n in range(1, 21)]
    assert lost == after == "INV-2026-00021"
    assert await take() == "INV-2026-00022"
