"""The router's HTTP edge through a real router process over real HTTP.

GraphiQL, CSRF prevention, media types, metrics, introspection switch,
header propagation and subgraph URL overrides, each checked against what
the (recording) subgraph really received.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from db.embedded import free_port
from router.config import load_config
from stack.plan import plan_services
from subgraphs.kit.settings import SUBGRAPH_PORTS, Settings
from tests.router_edge.router_harness import (
    Subgraph,
    base_config,
    router,
    subgraph,
    write_supergraph,
)

JSON = {"content-type": "application/json"}
PREFLIGHT = {"graphql-preflight": "1"}
GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture(scope="module")
async def accounts() -> AsyncIterator[Subgraph]:
    async with subgraph() as s:
        yield s


@pytest.fixture(autouse=True)
def _forget(accounts: Subgraph) -> None:
    accounts.clear()


@pytest.fixture(scope="module")
async def endpoint(
    accounts: Subgraph, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    path = write_supergraph(tmp_path_factory.mktemp("serving"), accounts.url)
    config = base_config(path, propagate_headers=("x-request-id", "accept-language"))
    async with router(config) as server:
        yield server.graphql_url


@pytest.fixture(scope="module")
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


# -- GraphiQL ------------------------------------------------------------------


async def test_a_browser_gets_graphiql_with_assets_served_by_the_router(
    http: httpx.AsyncClient, endpoint: str
) -> None:
    page = await http.get(endpoint, headers={"accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<div id="graphiql"' in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(assets) >= 4
    base = endpoint.removesuffix("/graphql")
    for url in assets:
        assert url.startswith("/graphiql/static/"), url  # nothing from a CDN
        r = await http.get(base + url)
        assert r.status_code == 200, url
        assert len(r.content) > 0


# -- CSRF ------------------------------------------------------------------------


async def test_csrf_refuses_simple_requests_and_runs_nothing(
    http: httpx.AsyncClient, endpoint: str, accounts: Subgraph
) -> None:
    text_post = await http.post(
        endpoint, content=b'{"query": "{ hello }"}', headers={"content-type": "text/plain"}
    )
    assert text_post.status_code == 400
    assert text_post.json()["errors"][0]["extensions"]["code"] == "CSRF_ERROR"
    bare_get = await http.get(endpoint, params={"query": "{ hello }"})
    assert bare_get.status_code == 400
    assert bare_get.json()["errors"][0]["extensions"]["code"] == "CSRF_ERROR"
    assert accounts.bodies == []


async def test_json_posts_and_preflighted_gets_run(http: httpx.AsyncClient, endpoint: str) -> None:
    post = await http.post(endpoint, json={"query": "{ hello }"})
    assert post.status_code == 200
    assert post.json() == {"data": {"hello": "world"}}
    get = await http.get(endpoint, params={"query": "{ hello }"}, headers=PREFLIGHT)
    assert get.json() == {"data": {"hello": "world"}}


async def test_a_mutation_over_get_is_refused(
    http: httpx.AsyncClient, endpoint: str, accounts: Subgraph
) -> None:
    r = await http.get(endpoint, params={"query": "mutation { touch }"}, headers=PREFLIGHT)
    assert r.status_code == 405
    assert accounts.bodies == []


# -- media types -------------------------------------------------------------------


async def test_answers_in_the_media_type_the_client_accepts(
    http: httpx.AsyncClient, endpoint: str
) -> None:
    plain = await http.post(endpoint, json={"query": "{ hello }"})
    assert plain.headers["content-type"].startswith("application/json")
    modern = await http.post(
        endpoint, json={"query": "{ hello }"}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert modern.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert modern.json() == {"data": {"hello": "world"}}
    invalid = await http.post(
        endpoint, json={"query": "{ nope }"}, headers={"accept": GRAPHQL_RESPONSE}
    )
    assert invalid.status_code == 400
    assert (await http.post(endpoint, json={"query": "{ nope }"})).status_code == 200


async def test_an_oversized_body_is_refused(http: httpx.AsyncClient, endpoint: str) -> None:
    big = b'{"query": "{ hello }", "pad": "' + b"x" * 2_100_000 + b'"}'
    r = await http.post(endpoint, content=big, headers=JSON)
    assert r.status_code == 413


# -- metrics -----------------------------------------------------------------------


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def test_metrics_count_operations_and_time_subgraph_fetches(
    http: httpx.AsyncClient, endpoint: str
) -> None:
    for _ in range(2):
        r = await http.post(endpoint, json={"query": "query Greeting { hello }"})
        assert r.json() == {"data": {"hello": "world"}}
    await http.post(endpoint, json={"query": "query Broken { nope }", "operationName": "Broken"})
    text = (await http.get(endpoint.removesuffix("/graphql") + "/metrics")).text
    s = _samples(text)
    ok = s[("router_requests_total", (("operation", "Greeting"), ("outcome", "success")))]
    assert ok >= 2
    assert s[("router_requests_total", (("operation", "Broken"), ("outcome", "error")))] >= 1
    assert s[("router_request_duration_seconds_count", (("operation", "Greeting"),))] >= 2
    assert s[("router_errors_total", (("code", "GRAPHQL_VALIDATION_FAILED"),))] >= 1
    fetches = s[("router_subgraph_fetch_duration_seconds_count", (("subgraph", "accounts"),))]
    assert fetches >= 2


# -- header propagation ---------------------------------------------------------------


async def test_authorization_and_configured_headers_reach_the_subgraph(
    http: httpx.AsyncClient, endpoint: str, accounts: Subgraph
) -> None:
    r = await http.post(
        endpoint,
        json={"query": "{ seenHeaders }"},
        headers={
            "authorization": "Bearer not-a-real-token",
            "x-request-id": "req-42",
            "accept-language": "fr",
            "x-secret-internal": "nope",
        },
    )
    seen = r.json()["data"]["seenHeaders"]
    assert "authorization=Bearer not-a-real-token" in seen
    assert "x-request-id=req-42" in seen
    assert "accept-language=fr" in seen
    assert not any(h.startswith("x-secret-internal") for h in seen)
    assert accounts.headers[0]["x-request-id"] == "req-42"


# -- introspection switch -------------------------------------------------------------


async def test_introspection_can_be_switched_off(
    http: httpx.AsyncClient, accounts: Subgraph, tmp_path: Path
) -> None:
    config = base_config(write_supergraph(tmp_path, accounts.url), introspection=False)
    async with router(config) as server:
        url = server.graphql_url
        for query in (
            "{ __schema { queryType { name } } }",
            '{ ...F } fragment F on Query { __type(name: "User") { name } }',
        ):
            body = (await http.post(url, json={"query": query})).json()
            assert body["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
            assert "data" not in body
        ok = (await http.post(url, json={"query": "{ __typename hello }"})).json()
        assert ok == {"data": {"__typename": "Query", "hello": "world"}}
    assert len(accounts.bodies) == 1  # only the allowed operation reached the subgraph


async def test_introspection_is_on_by_default(http: httpx.AsyncClient, endpoint: str) -> None:
    body = (await http.post(endpoint, json={"query": "{ __schema { queryType { name } } }"})).json()
    assert body == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


# -- subgraph URL override ------------------------------------------------------------


async def test_subgraph_urls_override_the_supergraph(
    http: httpx.AsyncClient, accounts: Subgraph, tmp_path: Path
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/graphql"
    path = write_supergraph(tmp_path, nowhere)
    async with router(base_config(path)) as server:
        down = (await http.post(server.graphql_url, json={"query": "{ hello }"})).json()
        assert down["data"] == {"hello": None}
        assert down["errors"][0]["extensions"]["code"] == "SUBREQUEST_HTTP_ERROR"
    config = load_config(
        ["--supergraph", str(path), "--subgraph-url", f"accounts={accounts.url}"],
        {"ROUTER_SUBGRAPH_URLS": f"accounts={nowhere},other=http://x", "ROUTER_JWKS_URL": ""},
    )
    assert config.subgraph_urls == {"accounts": accounts.url, "other": "http://x"}
    async with router(config) as server:
        up = (await http.post(server.graphql_url, json={"query": "{ hello }"})).json()
        assert up == {"data": {"hello": "world"}}


def test_make_run_points_the_router_at_the_subgraph_ports(tmp_path: Path) -> None:
    root = tmp_path
    for name in ("identity", "charters"):
        (root / "subgraphs" / name).mkdir(parents=True)
        (root / "subgraphs" / name / "__main__.py").touch()
    (root / "router").mkdir()
    (root / "router" / "__main__.py").touch()
    (root / "schema").mkdir()
    (root / "schema" / "supergraph.graphql").touch()
    plan = plan_services(root, Settings(identity_port=5101, charters_port=5103))
    router_service = plan.services[-1]
    assert router_service.env["ROUTER_SUBGRAPH_URLS"] == (
        "identity=http://127.0.0.1:5101/graphql,charters=http://127.0.0.1:5103/graphql"
    )
    config = load_config([], dict(router_service.env))
    assert config.subgraph_urls["charters"] == "http://127.0.0.1:5103/graphql"


def test_compose_points_the_router_at_every_subgraph_service() -> None:
    compose = yaml.safe_load((Path(__file__).parents[2] / "docker-compose.yml").read_text())
    services = compose["services"]
    env = services["router"]["environment"]
    config = load_config([], {k: str(v) for k, v in env.items() if k.startswith("ROUTER_")})
    subgraphs = [name for name in SUBGRAPH_PORTS if name in services]
    assert subgraphs
    assert config.subgraph_urls == {
        name: f"http://{name}:{SUBGRAPH_PORTS[name]}/graphql" for name in subgraphs
    }


def test_configuration_from_the_environment() -> None:
    config = load_config(
        [],
        {
            "ROUTER_MAX_DEPTH": "7",
            "ROUTER_MAX_COST": "0",
            "ROUTER_PROPAGATE_HEADERS": "X-Request-Id, accept-language",
            "ROUTER_APQ_ONLY": "1",
            "REDIS_URL": "redis://r:6379/0",
            "ROUTER_INTROSPECTION": "0",
            "ROUTER_CSRF_REQUIRED_HEADERS": "x-mine",
            "ROUTER_JWKS_URL": "http://identity:4101/.well-known/jwks.json",
            "ROUTER_SECRETS": " new-secret , old-secret ",
            "ROUTER_REVOCATION_CACHE_SECONDS": "0.5",
            "ROUTER_SESSION_CHECK_SECONDS": "3",
        },
    )
    assert config.limits.max_depth == 7
    assert config.limits.max_cost is None
    assert config.limits.max_aliases == 30
    assert config.propagate_headers == ("x-request-id", "accept-language")
    assert config.apq_only
    assert config.redis_url == "redis://r:6379/0"
    assert not config.introspection
    assert config.csrf_required_headers == ("x-mine",)
    assert config.jwt_settings()[0] == "http://identity:4101/.well-known/jwks.json"
    assert config.router_secrets == ("new-secret", "old-secret")
    assert config.signing_secret() == "new-secret"  # the first signs, all verify
    assert config.revocation_cache_seconds == 0.5
    assert config.session_check_seconds == 3
    defaults = load_config([], {})
    # unset: the subgraphs' defaults (tests/router/test_separation.py compares them)
    assert defaults.jwt_settings() == (
        "http://127.0.0.1:4101/.well-known/jwks.json",
        "https://athena.local/identity",
        "athena",
    )
    assert defaults.redis_url is None
    assert not defaults.apq_only
    assert defaults.router_secrets == ()
    assert defaults.signing_secret() is None
