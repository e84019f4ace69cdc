"""The security review's findings (issue 8) that the kit closes for every subgraph.

Each test is named after its finding and exercises a subgraph built with
the kit over real HTTP, so it also fails on the code the review ran against.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import httpx
import orjson
import pytest

from protocol import router_credential
from protocol.revocation import revoke_sessions
from subgraphs.kit.app import create_subgraph_app
from subgraphs.kit.auth.client_address import client_address, parse_networks
from subgraphs.kit.settings import Settings
from tests.kit import sample_subgraph
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve

ROUTER_SECRET = "router-secret-for-tests-0123456789abcdef"
INTROSPECTION = "{ __schema { queryType { name } } }"
SERVICE_SDL = "{ _service { sdl } }"


@pytest.fixture
async def serve_kit(settings: Settings, key_source: Any) -> Any:
    """Serve the sample subgraph with some settings changed."""
    servers: list[Any] = []

    async def start(**changes: Any) -> LiveServer:
        app = create_subgraph_app(
            "kit-test",
            sample_subgraph.schema,
            settings=settings.model_copy(update=changes),
            key_source=lambda _services: key_source,
        )
        context = serve(app)
        servers.append(context)
        return await context.__aenter__()

    yield start
    for context in reversed(servers):
        await context.__aexit__(None, None, None)


# -- finding 1: no usable default secret; production refuses known ones ------------------


def test_finding_1_secrets_have_no_usable_default(monkeypatch):
    for name in ("QUOTE_LINK_SECRET", "ONBOARDING_WEBHOOK_SECRET", "ROUTER_SECRETS"):
        monkeypatch.delenv(name, raising=False)

    defaults = Settings()

    assert defaults.quote_link_secret == ""
    assert defaults.onboarding_webhook_secret == ""
    assert defaults.router_secret_list == ()


@pytest.mark.parametrize(
    ("quote", "webhook", "router"),
    [
        ("embedded-quote-link-secret-change-me", "w" * 40, "r" * 40),
        ("q" * 40, "embedded-onboarding-webhook-secret-change-me", "r" * 40),
        ("q" * 40, "w" * 40, ""),
        ("short", "w" * 40, "r" * 40),
    ],
)
async def test_finding_1_production_refuses_to_start_with_missing_or_known_secrets(
    settings, key_source, quote, webhook, router
):
    unsafe = settings.model_copy(
        update={
            "environment": "production",
            "quote_link_secret": quote,
            "onboarding_webhook_secret": webhook,
            "router_secrets": router,
        }
    )
    app = create_subgraph_app(
        "kit-test", sample_subgraph.schema, settings=unsafe, key_source=lambda _s: key_source
    )

    with pytest.raises(RuntimeError, match="refusing to start in production"):
        async with app.router.lifespan_context(app):
            pass


async def test_finding_1_production_starts_with_strong_secrets(serve_kit, http):
    server = await serve_kit(
        environment="production",
        quote_link_secret="q" * 40,
        onboarding_webhook_secret="w" * 40,
        router_secrets=ROUTER_SECRET,
    )

    assert (await http.get(f"{server.base_url}/health")).status_code == 200


# -- finding 5: a revoked session's token stops working everywhere -----------------------

WHO = "{ whoAmI { userId } }"


async def test_finding_5_a_revoked_session_reads_as_anonymous(gql, token_for, redis, settings):
    sid = str(uuid.uuid4())
    token = token_for("manager", sid=sid)
    assert (await gql(WHO, token=token)).errors == []

    await revoke_sessions(redis, [sid], ttl_seconds=settings.jwt_access_ttl_seconds)
    await asyncio.sleep(settings.revocation_cache_seconds + 0.2)

    response = await gql(WHO, token=token)
    assert response.data is None
    assert response.error_codes == ["UNAUTHENTICATED"]
    # Other sessions of the same user are untouched.
    assert (await gql(WHO, token=token_for("manager", sid=str(uuid.uuid4())))).errors == []


async def test_finding_5_revocation_entries_expire_with_the_longest_token(redis, settings):
    sid = uuid.uuid4()

    await revoke_sessions(redis, [sid], ttl_seconds=settings.jwt_access_ttl_seconds)

    ttl = await redis.ttl(f"auth:revoked-session:{sid}")
    assert settings.jwt_access_ttl_seconds <= ttl <= settings.jwt_access_ttl_seconds + 60


# -- finding 6: impersonated sessions are read-only --------------------------------------


async def test_finding_6_an_impersonated_session_cannot_write(gql, token_for):
    token = token_for("client", act={"sub": str(uuid.uuid4())})

    refused = await gql("mutation { touch }", token=token)
    allowed = await gql("mutation { logout }", token=token)
    reading = await gql(WHO, token=token)

    assert refused.data is None
    assert refused.error_codes == ["NOT_ALLOWED_WHILE_IMPERSONATING"]
    assert allowed.ok() == {"logout": True}
    assert reading.errors == []
    # The same client, logged in as itself, writes.
    assert (await gql("mutation { touch }", token=token_for("client"))).ok() == {"touch": True}


async def test_finding_6_an_allowed_mutation_cannot_carry_a_refused_one(gql, token_for):
    token = token_for("client", act={"sub": str(uuid.uuid4())})

    response = await gql("mutation { logout touch }", token=token)

    assert response.data is None
    assert response.error_codes == ["NOT_ALLOWED_WHILE_IMPERSONATING"]


# -- finding 9: the caller's address comes from trusted proxies only ---------------------


def test_finding_9_forwarded_for_is_believed_only_from_trusted_proxies():
    trusted = parse_networks("10.0.0.0/8,127.0.0.1/32")

    # The router (trusted) appended the peer it saw; what the client wrote is ignored.
    assert client_address("10.0.0.5", "1.1.1.1, 203.0.113.9", trusted) == "203.0.113.9"
    # A chain of trusted proxies is walked from the right.
    assert client_address("10.0.0.5", "1.1.1.1, 203.0.113.9, 10.0.0.7", trusted) == "203.0.113.9"
    # An untrusted peer's header is not believed at all.
    assert client_address("198.51.100.4", "203.0.113.9", trusted) == "198.51.100.4"
    assert client_address("10.0.0.5", None, trusted) == "10.0.0.5"


async def test_finding_9_callers_behind_the_router_are_told_apart(gql):
    first = await gql("{ clientAddress }", headers={"x-forwarded-for": "203.0.113.7"})
    second = await gql("{ clientAddress }", headers={"x-forwarded-for": "6.6.6.6, 203.0.113.8"})

    assert first.ok() == {"clientAddress": "203.0.113.7"}
    assert second.ok() == {"clientAddress": "203.0.113.8"}


# -- finding 10: subgraphs answer only the router; their own guards ----------------------


def _signed_post(url: str, body: dict[str, Any], secret: str = ROUTER_SECRET):
    raw = orjson.dumps(body)
    signature = router_credential.sign(secret, raw)
    return url, raw, {"content-type": "application/json", router_credential.HEADER: signature}


@pytest.fixture
async def router_only(serve_kit) -> LiveServer:
    return await serve_kit(router_secrets=f"{ROUTER_SECRET},older-secret-still-accepted-0000000")


async def test_finding_10_a_direct_request_without_the_router_credential_is_refused(
    router_only, http
):
    response = await http.post(router_only.graphql_url, json={"query": "{ price }"})

    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "data" not in response.json()


async def test_finding_10_the_router_credential_is_accepted_and_rotates(router_only, http):
    for secret in (ROUTER_SECRET, "older-secret-still-accepted-0000000"):
        url, raw, headers = _signed_post(router_only.graphql_url, {"query": "{ price }"}, secret)
        response = await http.post(url, content=raw, headers=headers)
        assert response.status_code == 200
        assert response.json() == {"data": {"price": "12.50"}}


async def test_finding_10_a_captured_credential_carries_no_other_operation(router_only, http):
    url, _raw, headers = _signed_post(router_only.graphql_url, {"query": "{ price }"})
    other = orjson.dumps({"query": "{ whoAmI { userId } }"})
    stale = router_credential.sign(ROUTER_SECRET, other, now=time.time() - 3600)

    swapped = await http.post(url, content=other, headers=headers)
    replayed = await http.post(
        url, content=other, headers={**headers, router_credential.HEADER: stale}
    )
    forged = await http.post(
        url,
        content=other,
        headers={**headers, router_credential.HEADER: router_credential.sign("guess", other)},
    )

    assert [swapped.status_code, replayed.status_code, forged.status_code] == [401, 401, 401]


async def test_finding_10_the_other_routes_keep_their_own_proof(router_only, http):
    assert (await http.get(f"{router_only.base_url}/health")).status_code == 200


async def test_finding_10_introspection_service_sdl_and_graphiql_are_off_by_default(gql, http):
    introspection = await gql(INTROSPECTION)
    service = await gql(SERVICE_SDL)
    page = await http.get(gql.url, headers={"accept": "text/html"})

    assert introspection.data is None
    assert "introspection" in introspection.errors[0]["message"]
    assert service.data is None
    assert "_service" in service.errors[0]["message"]
    assert page.status_code != 200 or "graphiql" not in page.text.lower()


async def test_finding_10_introspection_when_configured(serve_kit, http):
    server = await serve_kit(subgraph_introspection=True)
    gql = GraphQLClient(server.graphql_url, http)

    assert (await gql(INTROSPECTION)).ok() == {"__schema": {"queryType": {"name": "Query"}}}
    assert "type Query" in (await gql(SERVICE_SDL)).ok()["_service"]["sdl"]


async def test_finding_10_subgraphs_apply_their_own_alias_and_depth_limits(
    gql, settings, http: httpx.AsyncClient
):
    aliases = " ".join(f"a{i}: price" for i in range(settings.subgraph_max_aliases + 1))
    within = " ".join(f"a{i}: price" for i in range(settings.subgraph_max_aliases))

    too_many = await gql(f"{{ {aliases} }}")
    fine = await gql(f"{{ {within} }}")

    assert too_many.data is None
    assert "aliases" in too_many.errors[0]["message"]
    assert too_many.error_codes == ["BAD_USER_INPUT"]
    assert fine.errors == []


async def test_finding_10_depth_limit(serve_kit, http):
    server = await serve_kit(subgraph_max_depth=1)
    gql = GraphQLClient(server.graphql_url, http)

    deep = await gql("{ items { edges { node { name } } } }")

    assert deep.data is None
    assert "depth" in deep.errors[0]["message"]
