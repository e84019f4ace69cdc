"""The sales subgraph on a real port, and helpers to make clients through its API."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from subgraphs.kit.settings import Settings
from subgraphs.sales.app import create_app
from subgraphs.sales.service.agents import apply_user_event
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve
from tests.support.router import serve_router
from tests.support.tokens import TokenMinter

CLIENT_FIELDS = """
  id name type status taxExempt creditLimit paymentTerms notes
  billingAddress { line1 line2 city region postalCode country }
  salesAgent { id }
  contacts { id name title email phone isPrimary }
"""
CREATE_CLIENT = f"""
mutation($input: CreateClientInput!) {{
  createClient(input: $input) {{ client {{ {CLIENT_FIELDS} }} userErrors {{ field code message }} }}
}}"""
ERRORS = "userErrors { field code message }"


@pytest.fixture(scope="session")
async def sales_server(
    subgraph_settings: Settings, charters_server: LiveServer
) -> AsyncIterator[LiveServer]:
    # The follow-up job stays off: tests run it themselves (tests/sales/test_follow_ups.py).
    # Conversion reaches the test's charters.
    settings = subgraph_settings.model_copy(
        update={"sales_follow_up_job_enabled": False, "charters_url": charters_server.graphql_url}
    )
    async with serve(create_app(settings)) as server:
        yield server


@pytest.fixture
async def router_url(
    subgraph_settings: Settings,
    identity_server: LiveServer,
    charters_server: LiveServer,
    sales_server: LiveServer,
    tmp_path: Path,
) -> AsyncIterator[str]:
    """The real router over identity, charters and sales."""
    urls = {
        "identity": identity_server.graphql_url,
        "charters": charters_server.graphql_url,
        "sales": sales_server.graphql_url,
    }
    async with serve_router(subgraph_settings.jwks_url, urls, tmp_path) as router:
        yield router.graphql_url


@pytest.fixture
def sales_as(sales_server: LiveServer, http_client: httpx.AsyncClient, mint: TokenMinter) -> Any:
    """A client of the sales subgraph with a token of these roles (and user, company)."""

    async def make(
        *roles: str, user_id: uuid.UUID | None = None, client_id: uuid.UUID | None = None
    ) -> GraphQLClient:
        token = await mint(*roles, user_id=user_id, client_id=client_id)
        return GraphQLClient(sales_server.graphql_url, http_client, token)

    return make


@pytest.fixture
def known_agent(sessions: Any) -> Any:
    """Make a user known to sales as identity would announce it (`identity.user_changed`).

    Sales learns its agents only from identity's events; the test applies one
    through the projection's own handler instead of running identity.
    """

    async def make(
        user_id: uuid.UUID | None = None,
        *,
        roles: tuple[str, ...] = ("sales_agent",),
        active: bool = True,
        name: str = "Sam Seller",
    ) -> uuid.UUID:
        user_id = user_id or uuid.uuid4()
        event = {
            "occurredAt": datetime.now(UTC).isoformat(),
            "payload": {
                "userId": str(user_id),
                "name": name,
                "email": f"{user_id.hex[:8]}@athena.example",
                "roles": list(roles),
                "active": active,
            },
        }
        async with sessions() as session, session.begin():
            await apply_user_event(session, event)
        return user_id

    return make


@pytest.fixture
async def sales_manager(sales_as: Any) -> GraphQLClient:
    return await sales_as("manager")  # type: ignore[no-any-return]


def client_input(name: str | None = None, **fields: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    return {
        "name": name or f"Client {tag}",
        "type": "CORPORATE",
        "contacts": [{"name": "Pat Doe", "email": f"pat.{tag}@example.com", "isPrimary": True}],
        **fields,
    }


@pytest.fixture
def make_client(sales_manager: GraphQLClient) -> Any:
    """Create a client as `by` (a manager by default); returns the client."""

    async def make(
        name: str | None = None, *, by: GraphQLClient | None = None, **fields: Any
    ) -> dict[str, Any]:
        caller = by or sales_manager
        payload = (await caller(CREATE_CLIENT, {"input": client_input(name, **fields)})).ok()[
            "createClient"
        ]
        assert payload["userErrors"] == [], payload
        return payload["client"]  # type: ignore[no-any-return]

    return make


LEAD_FIELDS = """
  id source firstName lastName email phone company status lostReason score markedHot hot
  lastContactAt nextFollowUpAt contactCount createdAt
  trip { date origin destination passengers vehicleType notes }
  agent { id }
"""
CREATE_LEAD = f"""
mutation($input: CreateLeadInput!) {{
  createLead(input: $input) {{ lead {{ {LEAD_FIELDS} }} {ERRORS} }}
}}"""


def lead_input(**fields: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:8]
    return {
        "source": "WEB",
        "firstName": "Robin",
        "lastName": f"Hale {tag}",
        "email": f"robin.{tag}@example.com",
        **fields,
    }


@pytest.fixture
def make_lead(sales_manager: GraphQLClient) -> Any:
    """Create a lead as `by` (a manager by default); returns the lead."""

    async def make(*, by: GraphQLClient | None = None, **fields: Any) -> dict[str, Any]:
        caller = by or sales_manager
        payload = (await caller(CREATE_LEAD, {"input": lead_input(**fields)})).ok()["createLead"]
        assert payload["userErrors"] == [], payload
        return payload["lead"]  # type: ignore[no-any-return]

    return make
