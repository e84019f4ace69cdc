"""A subgraph speaks the GraphQL over HTTP spec, like the router.

The npm `graphql-http` audit (`tools/graphql-http/audit.mjs`, the script
the router's audit runs) against the real identity subgraph: no MUST
(error) or SHOULD (warning) may fail. The audit reads `__type`, so this
app has introspection on; it has no router secret, so no credential gate.
The JSON POST the router sends (`Accept: application/json`) is answered as
before: HTTP 200, `application/json`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from subgraphs.identity.app import create_app
from subgraphs.kit.settings import Settings
from tests.router_edge.test_graphql_http_audit import audit
from tests.support.live_server import LiveServer, serve

GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture
async def identity(settings: Settings) -> AsyncIterator[LiveServer]:
    app = create_app(settings.model_copy(update={"subgraph_introspection": True}))
    async with serve(app) as server:
        yield server


@pytest.mark.timeout(120)
async def test_a_subgraph_passes_the_graphql_over_http_audit(identity: LiveServer) -> None:
    report = await audit(identity.graphql_url)

    failed = [(r["status"], r["id"], r["name"]) for r in report["results"] if r["status"] != "ok"]
    assert (report["error"], report["warn"], report["notice"]) == (0, 0, 0), failed


async def _post(
    server: LiveServer, body: dict[str, object] | None, accept: str | None, **kw: object
) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if accept is not None:
        headers["accept"] = accept
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.post(server.graphql_url, json=body, headers=headers)


async def test_a_parse_error_is_400_without_data_when_the_client_accepts_graphql_response(
    identity: LiveServer,
) -> None:
    response = await _post(identity, {"query": "{"}, GRAPHQL_RESPONSE)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["message"] == "Syntax Error: Expected Name, found <EOF>."
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_validation_error_is_400_without_data_when_the_client_accepts_graphql_response(
    identity: LiveServer,
) -> None:
    response = await _post(identity, {"query": "{ noSuchField }"}, GRAPHQL_RESPONSE)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json() == {
        "errors": [
            {
                "message": "Cannot query field 'noSuchField' on type 'Query'.",
                "locations": [{"line": 1, "column": 3}],
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }


async def test_the_routers_json_request_is_answered_200_in_application_json(
    identity: LiveServer,
) -> None:
    ok = await _post(identity, {"query": "{ __typename }"}, "application/json")
    invalid = await _post(identity, {"query": "{ noSuchField }"}, "application/json")

    assert (ok.status_code, ok.headers["content-type"]) == (200, "application/json")
    assert ok.json() == {"data": {"__typename": "Query"}}
    assert (invalid.status_code, invalid.headers["content-type"]) == (200, "application/json")
    assert invalid.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "data" not in invalid.json()


async def test_a_field_error_that_nulls_data_is_not_a_request_error(identity: LiveServer) -> None:
    # `me: User!` for an anonymous caller: the error bubbles to `data`, which stays
    response = await _post(identity, {"query": "{ me { id } }"}, GRAPHQL_RESPONSE)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["path"] == ["me"]


async def test_a_post_without_content_type_or_with_another_is_415(identity: LiveServer) -> None:
    query = b'{"query":"{ __typename }"}'
    async with httpx.AsyncClient(timeout=30) as http:
        bare = await http.post(identity.graphql_url, content=query)
        text = await http.post(
            identity.graphql_url, content=query, headers={"content-type": "text/plain"}
        )

    assert (bare.status_code, text.status_code) == (415, 415)
    assert bare.json()["errors"][0]["message"] == (
        "A POST must carry a Content-Type (application/json)."
    )
    assert text.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
