"""`make run`'s card sandbox: finance's real Stripe adapter pays through it, production never does.

The sandbox is started exactly as the launcher starts it (the launcher's own
`CardSandbox`, on its own thread), and finance's provider is built from the
variables the launcher hands its children, so what passes here is what
`make run` does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from db.embedded import free_port
from db.embedded.ports import port_is_free
from stack.card_sandbox import API_KEY, CARD_DECLINED, CARD_OK, WEBHOOK_SECRET, CardSandbox
from stack.launcher import Options, Stack
from subgraphs.finance.service.payment_provider import (
    ChargeRequest,
    PaymentMethodKind,
    PaymentStatus,
    ProviderDeclined,
    ProviderError,
    RefundStatus,
)
from subgraphs.finance.service.providers import payment_provider
from subgraphs.finance.service.stripe_provider import StripeProvider
from subgraphs.kit.settings import Settings
from subgraphs.kit.startup_checks import UnsafeSettingsError, refuse_unsafe_settings

PAYMENT_VARIABLES = (
    "PAYMENT_PROVIDER",
    "STRIPE_API_BASE",
    "STRIPE_API_KEY",
    "STRIPE_WEBHOOK_SECRET",
)


def _stack(data_dir: Path, environ: dict[str, str], port: int) -> Stack:
    options = Options(
        root=data_dir, postgres_port=1, redis_port=2, health_timeout=1, grace=1, demo=False
    )
    settings = Settings(data_dir=data_dir, card_sandbox_port=port)
    return Stack(options, settings, environ)


def _finance_settings(env: dict[str, str]) -> Settings:
    """Finance's settings as its process reads them from the launcher's environment."""
    return Settings.model_validate({name.lower(): env[name] for name in PAYMENT_VARIABLES})


def _charge(method: str, amount: str) -> ChargeRequest:
    return ChargeRequest(
        amount=Decimal(amount),
        currency="USD",
        payment_method=method,
        idempotency_key=f"sandbox-test-{uuid.uuid4()}",
        description="Deposit CH-2026-000001",
    )


@pytest.fixture
def announced() -> list[str]:
    return []


@pytest.fixture
def stack_with_sandbox(tmp_path: Path, announced: list[str]) -> Iterator[Stack]:
    """A launcher whose sandbox is started as `_start_servers` starts it."""
    stack = _stack(tmp_path, {}, free_port())
    assert stack.card_sandbox is not None
    stack.card_sandbox.stripe.announce = announced.append
    stack.card_sandbox.start()
    try:
        yield stack
    finally:
        stack.card_sandbox.stop()


async def test_finance_pays_through_the_sandbox_with_the_launchers_settings(
    stack_with_sandbox: Stack, announced: list[str]
) -> None:
    sandbox = stack_with_sandbox.card_sandbox
    assert sandbox is not None
    env = stack_with_sandbox.child_env()
    assert {name: env[name] for name in PAYMENT_VARIABLES} == {
        "PAYMENT_PROVIDER": "stripe",
        "STRIPE_API_BASE": f"http://127.0.0.1:{sandbox.port}",
        "STRIPE_API_KEY": API_KEY,
        "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    provider = payment_provider(_finance_settings(env))
    assert isinstance(provider, StripeProvider)

    card = await provider.describe_method(CARD_OK)
    paid = await provider.charge(_charge(CARD_OK, "250.00"))
    with pytest.raises(ProviderDeclined):
        await provider.charge(_charge(CARD_DECLINED, "99.00"))
    refund = await provider.refund(paid.reference, Decimal("50.00"), f"refund-{uuid.uuid4()}")

    assert (card.kind, card.brand, card.last4) == (PaymentMethodKind.CARD, "visa", "4242")
    assert (paid.status, paid.amount) == (PaymentStatus.SUCCEEDED, Decimal("250.00"))
    assert sandbox.stripe.intents[paid.reference]["amount_received"] == 25000
    assert (refund.status, refund.amount) == (RefundStatus.SUCCEEDED, Decimal("50.00"))
    assert announced[0] == f"cards: {CARD_OK} 250.00 USD: succeeded ({paid.reference})"
    assert announced[1].startswith(f"cards: {CARD_DECLINED} 99.00 USD: declined (pi_")
    assert len(announced) == 2


async def test_an_unknown_key_is_refused_like_stripe_refuses_it(stack_with_sandbox: Stack) -> None:
    sandbox = stack_with_sandbox.card_sandbox
    assert sandbox is not None
    provider = StripeProvider("sk_test_someone_else", WEBHOOK_SECRET, api_base=sandbox.base_url)

    with pytest.raises(ProviderError) as refused:
        await provider.describe_method(CARD_OK)

    assert "Invalid API Key" in str(refused.value)


def test_stopping_frees_the_port_and_a_taken_port_fails_at_start(tmp_path: Path) -> None:
    port = free_port()
    sandbox = CardSandbox(port)
    sandbox.start()
    with pytest.raises(OSError):
        CardSandbox(port).start()
    sandbox.stop()
    assert port_is_free(port)
    CardSandbox(free_port()).stop()  # never started: harmless


def test_what_the_user_exported_wins_over_the_sandbox(tmp_path: Path) -> None:
    own_key = {"STRIPE_API_KEY": "sk_test_the_users_own"}
    keyed = _stack(tmp_path, own_key, free_port()).child_env()
    configured = _stack(tmp_path, {"PAYMENT_PROVIDER": "manual"}, free_port())

    assert keyed["STRIPE_API_KEY"] == "sk_test_the_users_own"
    assert keyed["PAYMENT_PROVIDER"] == "stripe"
    assert configured.card_sandbox is None
    env = configured.child_env()
    assert env["PAYMENT_PROVIDER"] == "manual"
    assert "STRIPE_API_BASE" not in env
    assert "STRIPE_API_KEY" not in env


# --- production never talks to the sandbox ---------------------------------------------------

STRONG = "s" * 48
SAFE_PRODUCTION = {
    "environment": "production",
    "quote_link_secret": STRONG,
    "onboarding_webhook_secret": STRONG,
    "router_secrets": STRONG,
    "payment_provider": "stripe",
    "stripe_api_key": "sk_live_" + "k" * 40,
    "stripe_webhook_secret": "whsec_" + "w" * 40,
    "stripe_api_base": "",
}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"stripe_api_base": "http://127.0.0.1:4190"}, "STRIPE_API_BASE points at this machine"),
        ({"stripe_api_base": "http://localhost:4190/"}, "STRIPE_API_BASE points at this machine"),
        ({"stripe_api_base": "http://[::1]:4190"}, "STRIPE_API_BASE points at this machine"),
        ({"stripe_api_base": "http://127.0.0.2:80"}, "STRIPE_API_BASE points at this machine"),
        ({"stripe_api_key": API_KEY}, "STRIPE_API_KEY is the card sandbox's published key"),
        (
            {"stripe_webhook_secret": WEBHOOK_SECRET},
            "STRIPE_WEBHOOK_SECRET is the card sandbox's published secret",
        ),
    ],
)
def test_production_refuses_the_sandbox(change: dict[str, str], named: str) -> None:
    settings = Settings.model_validate({**SAFE_PRODUCTION, **change})

    with pytest.raises(UnsafeSettingsError) as refused:
        refuse_unsafe_settings(settings)

    assert named in str(refused.value)


def test_production_with_the_real_provider_and_development_with_the_sandbox_start() -> None:
    refuse_unsafe_settings(Settings.model_validate(SAFE_PRODUCTION))
    proxied = {**SAFE_PRODUCTION, "stripe_api_base": "https://proxy.example.com"}
    refuse_unsafe_settings(Settings.model_validate(proxied))
    sandboxed = {
        "stripe_api_base": "http://127.0.0.1:4190",
        "stripe_api_key": API_KEY,
        "stripe_webhook_secret": WEBHOOK_SECRET,
    }
    development = {**SAFE_PRODUCTION, **sandboxed, "environment": "development"}
    refuse_unsafe_settings(Settings.model_validate(development))
