"""GraphQL over HTTP through the real server."""

from __future__ import annotations

import aiohttp

GRAPHQL_RESPONSE = "application/graphql-response+json"
#: a GET carries no Content-Type, so CSRF prevention wants one of these headers
PREFLIGHT = {"graphql-preflight": "1"}


async def test_post_get_and_health(router_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{router_url}/health") as r:
            assert r.status == 200
        async with http.post(
            f"{router_url}/graphql", json={"query": "query ping { __typename }"}
        ) as r:
            assert r.status == 200
            assert await r.json() == {"data": {"__typename": "Query"}}
        async with http.get(
            f"{router_url}/graphql",
            params={
                "query": "query($id: ID!) { charter(id: $id) { reference } }",
                "variables": '{"id": "c3"}',
            },
            headers=PREFLIGHT,
        ) as r:
            assert await r.json() == {"data": {"charter": {"reference": "CH-3"}}}


async def test_mutation_over_get_is_refused(router_url: str) -> None:
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            f"{router_url}/graphql",
            params={"query": 'mutation { rename(id: "c1", reference: "x") { id } }'},
            headers=PREFLIGHT,
        ) as r,
    ):
        assert r.status == 405


async def test_request_errors_are_never_500(router_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{router_url}/graphql", json={"query": "{ charters { "}) as r:
            assert r.status == 200
            body = await r.json()
            assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
        async with http.post(
            f"{router_url}/graphql",
            json={"query": "{ nope }"},
            headers={"accept": GRAPHQL_RESPONSE},
        ) as r:
            assert r.status == 400
            assert r.headers["content-type"].startswith(GRAPHQL_RESPONSE)
        async with http.post(
            f"{router_url}/graphql", data=b"{not json", headers={"content-type": "application/json"}
        ) as r:
            assert r.status == 400
