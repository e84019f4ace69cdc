"""Issue 8 (security review), the router's part, through a real router over HTTP.

Each test is named after the finding it closes and fails on the router as
it was before the fix (b162b12): the behaviour is observed from outside,
as a client and as the subgraph behind the router see it.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from protocol.revocation import revoke_sessions
from tests.router_edge.router_harness import Signer, jwks_signer
from tests.router_edge.security_harness import (
    Charters,
    charters_subgraph,
    router_process,
    secured_router,
    write_supergraph,
)


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
async def charters() -> AsyncIterator[Charters]:
    async with charters_subgraph() as s:
        yield s


@pytest.fixture(autouse=True)
def _forget(charters: Charters) -> None:
    charters.clear()


@pytest.fixture(scope="module")
def supergraph(charters: Charters, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_supergraph(tmp_path_factory.mktemp("security"), charters.url)


def _codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


def _measured_cost(body: dict[str, Any]) -> int:
    (refusal,) = [e for e in body["errors"] if e["extensions"]["code"] == "OPERATION_TOO_COSTLY"]
    return int(refusal["extensions"]["measured"])


# -- finding 11: the cost counts `first` on connections ---------------------------------------


CHARTER_PAGE = "{ charters(first: %d) { totalCount edges { node { id reference } } } }"


async def test_finding_11_cost_counts_first_on_connections(
    http: httpx.AsyncClient, supergraph: Path, charters: Charters
) -> None:
    # a cost ceiling of 1 refuses everything and reports each operation's measure
    async with secured_router(supergraph, {"ROUTER_MAX_COST": "1"}) as tiny:
        one = (await http.post(tiny.graphql_url, json={"query": CHARTER_PAGE % 1})).json()
        hundred = (await http.post(tiny.graphql_url, json={"query": CHARTER_PAGE % 100})).json()
        by_variable = (
            await http.post(
                tiny.graphql_url,
                json={
                    "query": "query($n: Int) { charters(first: $n) { edges { node { id reference } } } }",
                    "variables": {"n": 100},
                },
            )
        ).json()
    # charters + totalCount + edges x (edge + node + id + reference)
    assert _measured_cost(one) == 1 + 1 + 1 * 4
    assert _measured_cost(hundred) == 1 + 1 + 100 * 4
    assert _measured_cost(hundred) >= 50 * _measured_cost(one)
    assert _measured_cost(by_variable) == 1 + 100 * 4

    # with the default limits, 25 aliased pages of 100 charters with their stops are refused
    aliased = " ".join(
        f"p{i}: charters(first: 100) {{ edges {{ node {{ id reference stops {{ name }} }} }} }}"
        for i in range(25)
    )
    async with secured_router(supergraph, {}) as default:
        body = (await http.post(default.graphql_url, json={"query": f"{{ {aliased} }}"})).json()
        assert "OPERATION_TOO_COSTLY" in _codes(body)
        assert body.get("data") is None
        assert charters.bodies == []  # refused before any subgraph was asked

        # one such page is fine
        page = (await http.post(default.graphql_url, json={"query": CHARTER_PAGE % 100})).json()
        assert "errors" not in page
        assert len(page["data"]["charters"]["edges"]) == 100


# -- finding 9: the caller's address goes on to the subgraphs -----------------------------------


def _forwarded_for(headers: dict[str, str]) -> str | None:
    return headers.get("x-forwarded-for")


async def test_finding_9_router_appends_the_callers_address_to_x_forwarded_for(
    http: httpx.AsyncClient, supergraph: Path, charters: Charters
) -> None:
    # `python -m router` itself: how its server treats a client's X-Forwarded-For matters
    async with router_process(supergraph, {}) as live:
        r = await http.post(live.graphql_url, json={"query": "{ hello }"})
        assert r.json() == {"data": {"hello": "world"}}
        # the router's TCP peer here is the test client, on 127.0.0.1
        assert _forwarded_for(charters.headers[-1]) == "127.0.0.1"

        # what the client wrote is kept in front, never in place of the peer
        r = await http.post(
            live.graphql_url,
            json={"query": "{ hello }"},
            headers={"X-Forwarded-For": "203.0.113.7"},
        )
        assert r.json() == {"data": {"hello": "world"}}
        assert _forwarded_for(charters.headers[-1]) == "203.0.113.7, 127.0.0.1"

        # a forged chain stays to the left of the peer as well
        r = await http.post(
            live.graphql_url,
            json={"query": "{ hello }"},
            headers={"X-Forwarded-For": "198.51.100.1, 10.0.0.1"},
        )
        assert _forwarded_for(charters.headers[-1]) == "198.51.100.1, 10.0.0.1, 127.0.0.1"


async def test_finding_9_forwarded_for_is_appended_even_when_propagated_by_configuration(
    http: httpx.AsyncClient, supergraph: Path, charters: Charters
) -> None:
    env = {"ROUTER_PROPAGATE_HEADERS": "x-forwarded-for,x-request-id"}
    async with router_process(supergraph, env) as live:
        await http.post(
            live.graphql_url,
            json={"query": "{ hello }"},
            headers={"X-Forwarded-For": "203.0.113.7", "X-Request-Id": "r1"},
        )
    seen = charters.headers[-1]
    assert _forwarded_for(seen) == "203.0.113.7, 127.0.0.1"
    assert seen["x-request-id"] == "r1"


# -- finding 10: the router proves itself to the subgraphs ---------------------------------------


async def test_finding_10_router_signs_every_subgraph_request(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    secret = secrets.token_urlsafe(32)
    async with charters_subgraph(secrets=[secret]) as guarded:
        path = write_supergraph(tmp_path, guarded.url)
        # the same query sent straight to the subgraph, unsigned, is refused
        direct = await http.post(guarded.url, json={"query": "{ hello }"})
        assert direct.status_code == 401
        assert guarded.refused == 1

        # rotation: the router signs with the first secret, the subgraph knows it
        async with secured_router(path, {"ROUTER_SECRETS": f"{secret},older-secret"}) as live:
            query = {"query": "{ hello charters(first: 2) { totalCount } }"}
            r = await http.post(live.graphql_url, json=query)
            assert r.json() == {"data": {"hello": "world", "charters": {"totalCount": 150}}}
            mutation = await http.post(live.graphql_url, json={"query": "mutation { touch }"})
            assert mutation.json() == {"data": {"touch": 1}}
        assert guarded.refused == 1
        assert len(guarded.bodies) == 2

        # a router with another secret is refused like anyone else
        async with secured_router(path, {"ROUTER_SECRETS": "not-the-secret"}) as stranger:
            r = await http.post(stranger.graphql_url, json={"query": "{ hello }"})
        body = r.json()
        assert body["data"] == {"hello": None}
        assert body["errors"][0]["extensions"]["serviceName"] == "charters"
        assert guarded.refused == 2


async def test_finding_10_deduplicated_fetches_are_still_signed(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Identical in-flight fetches share one round trip; the signature is per send."""
    import asyncio

    secret = secrets.token_urlsafe(32)
    async with charters_subgraph(secrets=[secret]) as guarded:
        path = write_supergraph(tmp_path, guarded.url)
        async with secured_router(path, {"ROUTER_SECRETS": secret}) as live:
            answers = await asyncio.gather(
                *(
                    http.post(
                        live.graphql_url, json={"query": "{ charters(first: 3) { totalCount } }"}
                    )
                    for _ in range(8)
                )
            )
        assert all(a.json() == {"data": {"charters": {"totalCount": 150}}} for a in answers)
        assert guarded.refused == 0
        assert 1 <= len(guarded.bodies) <= 8


# -- finding 5: a revoked session's token is anonymous at the router ----------------------------


@pytest.fixture
async def signer() -> AsyncIterator[Signer]:
    async with jwks_signer() as s:
        yield s


async def test_finding_5_revoked_session_token_is_treated_as_anonymous(
    http: httpx.AsyncClient,
    supergraph: Path,
    charters: Charters,
    signer: Signer,
    redis: Redis,
) -> None:
    sid = str(uuid.uuid4())
    token = signer.token(sid=sid)
    env = {"ROUTER_REDIS_URL": os.environ["REDIS_URL"], "ROUTER_REVOCATION_CACHE_SECONDS": "0"}
    auth = {"Authorization": f"Bearer {token}"}
    async with secured_router(supergraph, env, jwks_url=signer.jwks_url) as live:
        r = await http.post(live.graphql_url, json={"query": "{ me { id } }"}, headers=auth)
        assert r.json() == {"data": {"me": {"id": "u1"}}}

        await revoke_sessions(redis, [sid], ttl_seconds=60)

        r = await http.post(live.graphql_url, json={"query": "{ me { id } hello }"}, headers=auth)
        body = r.json()
        assert body["data"] == {"me": None, "hello": "world"}
        assert _codes(body) == ["UNAUTHORIZED_FIELD_OR_TYPE"]
        # the ended session's token went no further than the router
        assert "authorization" not in charters.headers[-1]

        # another session of the same kind is unaffected
        other = signer.token(sid=str(uuid.uuid4()))
        r = await http.post(
            live.graphql_url,
            json={"query": "{ me { id } }"},
            headers={"Authorization": f"Bearer {other}"},
        )
        assert r.json() == {"data": {"me": {"id": "u1"}}}


def test_finding_1_the_router_refuses_to_start_in_production_without_its_secrets(
    supergraph: Path,
) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("QUOTE_LINK_SECRET", "ONBOARDING_WEBHOOK_SECRET", "ROUTER_SECRETS")
    }
    # the subgraphs' secrets are theirs: the router checks only its own
    env.update(ENVIRONMENT="production", QUOTE_LINK_SECRET="embedded-quote-link-secret-change-me")

    done = subprocess.run(
        [sys.executable, "-m", "router", "--supergraph", str(supergraph), "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2
    assert "QUOTE_LINK_SECRET" not in done.stderr
    assert "ROUTER_SECRETS is not set" in done.stderr
