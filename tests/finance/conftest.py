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
    async with serve(create_app(subgraph_settings)) as server:
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
