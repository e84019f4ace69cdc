"""The client portal's demo (issue 14): terms, a quote awaiting an answer, a signed booking, a card.

The demo loader runs as `make run` runs it: every module in ORDER, into the
test database, with the payment provider settings the launcher gives it
when its card sandbox is up (or none: the manual provider).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.demo import ORDER
from db.demo import portal as demo
from db.demo.__main__ import load_all
from db.demo.identity import DEMO_CLIENT_COMPANY
from db.embedded import free_port
from stack.card_sandbox import CardSandbox
from subgraphs.charters.models import Charter, CharterSignature, LegalTermsVersion, outbox
from subgraphs.charters.service.events import QUOTE_SENT
from subgraphs.finance.models import CharterFact, Instalment, PaymentPlan, SavedPaymentMethod
from subgraphs.identity.models import User
from subgraphs.kit.settings import get_settings
from subgraphs.notifications.models import Template
from subgraphs.pricing.models import QuoteCalculation


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[CardSandbox]:
    """The card sandbox up, and the demo's environment pointing at it, as the launcher does."""
    sandbox = CardSandbox(free_port())
    sandbox.start()
    for name, value in sandbox.provider_env().items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        yield sandbox
    finally:
        sandbox.stop()
        monkeypatch.undo()
        get_settings.cache_clear()


async def test_the_portal_demo_loads_once_after_the_others(
    sessions: async_sessionmaker[AsyncSession], sandbox: CardSandbox
) -> None:
    first = await load_all()
    again = await load_all()

    zone = ZoneInfo(demo.ZONE)
    today = datetime.now(UTC).astimezone(zone).date()
    async with sessions() as session:
        terms = {
            row.kind: row
            for row in await session.scalars(
                select(LegalTermsVersion).where(LegalTermsVersion.is_current.is_(True))
            )
        }
        quote = await session.scalar(select(Charter).where(Charter.notes == demo.QUOTE_NOTE))
        booked = await session.scalar(select(Charter).where(Charter.notes == demo.BOOKED_NOTE))
        assert quote is not None
        assert booked is not None
        quote_prices = list(
            await session.scalars(
                select(QuoteCalculation.total).where(QuoteCalculation.charter_id == quote.id)
            )
        )
        sent = list(
            await session.scalars(
                select(outbox.c.payload).where(
                    outbox.c.topic == QUOTE_SENT,
                    outbox.c.payload["charterId"].astext == str(quote.id),
                )
            )
        )
        signatures = list(
            await session.scalars(
                select(CharterSignature).where(CharterSignature.charter_id == booked.id)
            )
        )
        client_user = await session.scalar(
            select(User.id).where(User.email == "client@demo.athena")
        )
        accepted = await session.scalar(
            select(QuoteCalculation.total).where(
                QuoteCalculation.charter_id == booked.id, QuoteCalculation.accepted
            )
        )
        owed = await session.scalar(
            select(CharterFact.accepted_total).where(CharterFact.charter_id == booked.id)
        )
        plan = await session.scalar(select(PaymentPlan).where(PaymentPlan.charter_id == booked.id))
        deposits = list(
            await session.scalars(
                select(Instalment.amount).where(
                    Instalment.charter_id == booked.id, Instalment.kind == "deposit"
                )
            )
        )
        cards = list(
            await session.scalars(
                select(SavedPaymentMethod).where(
                    SavedPaymentMethod.client_id == DEMO_CLIENT_COMPANY
                )
            )
        )
        template_count = await session.scalar(select(func.count()).select_from(Template))

    assert ORDER[-1] == "portal"
    assert first["portal"] > 0
    assert again["portal"] == 0
    # Published terms a client can read and sign, and a waiver.
    assert set(terms) >= {"terms_and_conditions", "waiver"}
    text = terms["terms_and_conditions"].text
    for part in ("Deposit", "cancel", "Conduct", "Liability"):
        assert part in text
    assert len(text.split("\n\n")) >= 4
    # A priced quote of the demo client's, three weeks out, its link sent.
    assert quote.status == "quote"
    assert quote.client_id == DEMO_CLIENT_COMPANY
    assert timedelta(days=20) <= quote.pickup_local.date() - today <= timedelta(days=22)
    assert quote_prices
    assert all(total > 0 for total in quote_prices)
    assert len(sent) == 1
    # A booking the client accepted online: signed, priced, with a deposit to pay.
    assert booked.status == "booked"
    assert booked.client_id == DEMO_CLIENT_COMPANY
    [signature] = signatures
    assert signature.signer_id == client_user
    assert signature.typed_name == demo.SIGNER_NAME
    assert signature.ip_address == demo.SIGNER_IP
    assert signature.user_agent == demo.SIGNER_AGENT
    assert signature.terms_sha256 == terms["terms_and_conditions"].sha256
    assert accepted is not None
    assert accepted > 0
    assert owed == accepted
    assert plan is not None
    assert len(deposits) == 1
    assert 0 < deposits[0] <= accepted
    # The sandbox's test card, saved for the client as the provider describes it.
    [card] = cards
    assert (card.provider, card.token, card.brand, card.last4) == (
        "stripe",
        demo.DEMO_CARD,
        "visa",
        "4242",
    )
    assert card.is_default
    asked = [(r.method, r.path) for r in sandbox.stripe.requests]
    assert asked == [("GET", f"/v1/payment_methods/{demo.DEMO_CARD}")]
    # Every notification kind has its template before notifications first starts.
    assert template_count


async def test_with_the_manual_provider_the_card_is_skipped_and_said(
    sessions: async_sessionmaker[AsyncSession], capsys: pytest.CaptureFixture[str]
) -> None:
    assert get_settings().payment_provider == "manual"

    loaded = await load_all()

    async with sessions() as session:
        cards = await session.scalar(select(func.count()).select_from(SavedPaymentMethod))
        booked = await session.scalar(
            select(Charter.status).where(Charter.notes == demo.BOOKED_NOTE)
        )
    assert loaded["portal"] > 0
    assert booked == "booked"
    assert cards == 0
    assert "no saved card for the demo client" in capsys.readouterr().out
