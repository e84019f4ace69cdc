"""The finance subgraph on a real port, and other subgraphs' facts as their events give them."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from subgraphs.finance.app import create_app
from subgraphs.finance.service import facts
from subgraphs.kit.settings import Settings
from tests.support.live_server import LiveServer, serve
from tests.support.router import serve_router


@pytest.fixture(scope="session")
async def finance_server(subgraph_settings: Settings) -> AsyncIterator[LiveServer]:
    # The month-end and overdue jobs stay off: tests run them for chosen days
    # (tests/finance/test_month_end.py, test_overdue_job.py), never by the wall clock.
    settings = subgraph_settings.model_copy(update={"finance_jobs_enabled": False})
    async with serve(create_app(settings)) as server:
        yield server


@pytest.fixture
async def finance_router(
    subgraph_settings: Settings,
    identity_server: LiveServer,
    charters_server: LiveServer,
    finance_server: LiveServer,
    tmp_path: Path,
) -> AsyncIterator[str]:
    urls = {
        "identity": identity_server.graphql_url,
        "charters": charters_server.graphql_url,
        "finance": finance_server.graphql_url,
    }
    async with serve_router(subgraph_settings.jwks_url, urls, tmp_path) as router:
        yield router.graphql_url


def event(payload: dict[str, Any]) -> dict[str, Any]:
    return {"occurredAt": datetime.now(UTC).isoformat(), "payload": payload}


@pytest.fixture
def booked(sessions: Any) -> Any:
    """Make finance know a booked charter and its accepted price, as charters and pricing announce."""

    async def make(
        charter_id: str,
        client_id: str,
        total: str,
        *,
        agent_id: str | None = None,
        days: int = 60,
    ) -> None:
        pickup = datetime.now(UTC) + timedelta(days=days)
        async with sessions() as session, session.begin():
            await facts.apply_client_event(
                session, event({"clientId": client_id, "name": "Client", "type": "corporate"})
            )
            await facts.apply_charter_event(
                session,
                event(
                    {
                        "charterId": charter_id,
                        "clientId": client_id,
                        "salesAgentId": agent_id,
                        "status": "booked",
                        "pickupAt": pickup.isoformat(),
                    }
                ),
            )
            await facts.apply_quote_accepted(
                session, event({"charterId": charter_id, "total": total, "lines": []})
            )

    return make


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture(scope="session")
async def stripe_api() -> AsyncIterator[tuple[Any, LiveServer]]:
    """The local Stripe stand-in (stack/card_sandbox.py) on a real port."""
    from stack.card_sandbox import FakeStripe

    fake = FakeStripe()
    async with serve(fake.app()) as server:
        yield fake, server


@pytest.fixture
def fake_stripe_api(stripe_api: tuple[Any, LiveServer]) -> Any:
    fake, _ = stripe_api
    fake.reset()
    return fake


@pytest.fixture(scope="session")
def stripe_settings(subgraph_settings: Settings, stripe_api: tuple[Any, LiveServer]) -> Settings:
    """Finance configured for Stripe at the local stand-in (`service/providers.py`)."""
    from stack.card_sandbox import API_KEY, WEBHOOK_SECRET

    _, server = stripe_api
    return subgraph_settings.model_copy(
        update={
            "payment_provider": "stripe",
            "stripe_api_key": API_KEY,
            "stripe_api_base": server.base_url,
            "stripe_webhook_secret": WEBHOOK_SECRET,
            "jobs_enabled": False,
        }
    )


@pytest.fixture(scope="session")
async def stripe_finance_server(stripe_settings: Settings) -> AsyncIterator[LiveServer]:
    """A second finance app whose payment provider is Stripe (the default one's is manual)."""
    async with serve(create_app(stripe_settings)) as server:
        yield server
