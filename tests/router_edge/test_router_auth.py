"""JWT verification and @authenticated/@requiresScopes through a real router.

Tokens are verified against a JWKS served over HTTP; what the caller may
not see comes back null with an error, the rest runs, and the denied fields
are never requested from the subgraph.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.router_edge.router_harness import (
    Signer,
    Subgraph,
    base_config,
    jwks_signer,
    router,
    subgraph,
    write_supergraph,
)

UNAUTHORIZED = "UNAUTHORIZED_FIELD_OR_TYPE"


@pytest.fixture(scope="module")
async def accounts() -> AsyncIterator[Subgraph]:
    async with subgraph() as s:
        yield s


@pytest.fixture(autouse=True)
def _forget(accounts: Subgraph) -> None:
    accounts.clear()


@pytest.fixture(scope="module")
async def signer() -> AsyncIterator[Signer]:
    async with jwks_signer() as s:
        yield s


@pytest.fixture(scope="module")
async def endpoint(
    accounts: Subgraph, signer: Signer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    path = write_supergraph(tmp_path_factory.mktemp("auth"), accounts.url)
    async with router(base_config(path, signer.jwks_url)) as server:
        yield server.graphql_url


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def ask(
    http: httpx.AsyncClient, url: str, query: str, token: str | None = None
) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    r = await http.post(url, json={"query": query}, headers=headers)
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    return body


def denied(*path: str) -> dict[str, Any]:
    return {
        "message": "Unauthorized field or type",
        "path": list(path),
        "extensions": {"code": UNAUTHORIZED},
    }


async def test_anonymous_callers_get_null_and_an_error_and_the_rest_runs(
    http: httpx.AsyncClient, endpoint: str, accounts: Subgraph
) -> None:
    body = await ask(http, endpoint, "{ hello me { name } }")
    assert body == {"data": {"hello": "world", "me": None}, "errors": [denied("me")]}
    assert len(accounts.bodies) == 1
    assert "me" not in accounts.bodies[0]["query"]


async def test_a_valid_token_sees_authenticated_fields(
    http: httpx.AsyncClient, endpoint: str, signer: Signer, accounts: Subgraph
) -> None:
    token = signer.token()
    body = await ask(http, endpoint, "{ hello me { name } }", token)
    assert body == {"data": {"hello": "world", "me": {"name": "user0"}}}
    assert accounts.headers[0]["authorization"] == f"Bearer {token}"


async def test_scopes_decide_field_by_field(
    http: httpx.AsyncClient, endpoint: str, signer: Signer
) -> None:
    query = "{ secret users(first: 2) { name email } }"
    without = await ask(http, endpoint, query, signer.token())
    assert without["data"] == {
        "secret": None,
        "users": [{"name": "user0", "email": None}, {"name": "user1", "email": None}],
    }
    assert without["errors"] == [denied("secret"), denied("users", "@", "email")]

    partly = await ask(http, endpoint, query, signer.token(scopes=("admin",)))
    assert partly["data"]["secret"] == 42
    assert partly["errors"] == [denied("users", "@", "email")]

    full = await ask(http, endpoint, query, signer.token(scopes=("read:secret", "read:email")))
    assert full == {
        "data": {
            "secret": 42,
            "users": [
                {"name": "user0", "email": "u0@example.com"},
                {"name": "user1", "email": "u1@example.com"},
            ],
        }
    }


@pytest.mark.parametrize(
    "claims",
    [
        {"exp": 1},  # expired
        {"aud": "someone-else"},
        {"iss": "https://evil.test"},
    ],
)
async def test_invalid_tokens_are_treated_as_anonymous(
    http: httpx.AsyncClient, endpoint: str, signer: Signer, claims: dict[str, Any]
) -> None:
    body = await ask(http, endpoint, "{ hello me { name } }", signer.token(**claims))
    assert body == {"data": {"hello": "world", "me": None}, "errors": [denied("me")]}


async def test_a_token_signed_by_an_unknown_key_is_refused(
    http: httpx.AsyncClient, endpoint: str
) -> None:
    async with jwks_signer() as stranger:
        body = await ask(http, endpoint, "{ me { name } }", stranger.token())
    assert body == {"data": {"me": None}, "errors": [denied("me")]}
