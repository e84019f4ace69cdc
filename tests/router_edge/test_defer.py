"""@defer through a real router over HTTP, against real federated subgraphs.

The four Strawberry subgraphs of tests/router (charters -> vehicles ->
vendor in another subgraph; vendor b's `rating` fails). A multipart client
gets the initial payload without the deferred fields, then the fragment at
its path; a JSON-only client gets the whole answer at once; the deferred
fragment's own fetches go only where its fields live. Apollo Client and
urql, run by node (tools/graphql-http), each receive the deferred fragment.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from router.server.incremental import CONTENT_TYPE
from tests.router.conftest import recorders, router_url, supergraph_sdl
from tests.router.subgraphs import Recorder
from tests.support.node_clients import run_client

__all__ = ["recorders", "router_url", "supergraph_sdl"]

ACCEPT = "multipart/mixed;deferSpec=20220824, application/json"
QUERY = (
    'query Fleet { charters { id vehicles { id ... @defer(label: "vendor") '
    "{ vendor { name } } } } }"
)


def _parts(raw: bytes) -> list[dict[str, Any]]:
    text = raw.decode()
    assert text.startswith("\r\n---\r\n")
    assert text.endswith("\r\n-----\r\n")
    chunks = text[len("\r\n---") : -len("\r\n-----\r\n")].split("\r\n---")
    out = []
    for c in chunks:
        head, _, body = c.partition("\r\n\r\n")
        assert head == "\r\nContent-Type: application/json; charset=utf-8"
        out.append(json.loads(body))
    return out


async def _post(
    url: str, query: str, accept: str, variables: dict[str, Any] | None = None
) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as c:
        return await c.post(
            f"{url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"accept": accept},
        )


async def test_initial_payload_then_the_deferred_fragment_at_its_path(
    router_url: str, recorders: dict[str, Recorder]
) -> None:
    r = await _post(router_url, QUERY, ACCEPT)
    assert r.status_code == 200
    assert r.headers["content-type"] == CONTENT_TYPE
    first, *rest = _parts(r.content)
    assert first == {
        "data": {
            "charters": [
                {"id": "c1", "vehicles": [{"id": "v1"}, {"id": "v2"}]},
                {"id": "c2", "vehicles": [{"id": "v3"}]},
                {"id": "c3", "vehicles": [{"id": "v4"}, {"id": "v5"}, {"id": "v6"}]},
            ]
        },
        "hasNext": True,
    }
    (last,) = rest
    assert last["hasNext"] is False
    items = last["incremental"]
    assert items[0] == {
        "data": {"vendor": {"name": "Alpha Coaches"}},
        "path": ["charters", 0, "vehicles", 0],
        "label": "vendor",
    }
    assert items[4] == {
        "data": {"vendor": None},
        "path": ["charters", 2, "vehicles", 1],
        "label": "vendor",
    }
    assert len(items) == 6
    # the initial operation never asked the vendors subgraph
    vendor_queries = [b["query"] for b in recorders["vendors"].bodies]
    assert len(vendor_queries) == 1
    assert "name" in vendor_queries[0]


async def test_json_only_gets_the_whole_answer_and_if_false_is_not_deferred(
    router_url: str,
) -> None:
    r = await _post(router_url, QUERY, "application/json")
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["data"]["charters"][0]["vehicles"][0] == {
        "id": "v1",
        "vendor": {"name": "Alpha Coaches"},
    }
    off = QUERY.replace('@defer(label: "vendor")', "@defer(if: $d)").replace(
        "query Fleet", "query Fleet($d: Boolean!)"
    )
    r = await _post(router_url, off, ACCEPT, {"d": False})
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["data"]["charters"][0]["vehicles"][0]["vendor"] == {"name": "Alpha Coaches"}


async def test_nested_defer_and_an_error_in_a_deferred_fetch(router_url: str) -> None:
    query = (
        '{ charters { id vehicles { id ... @defer(label: "outer") { vendor { name '
        '... @defer(label: "inner") { rating } } } } } }'
    )
    r = await _post(router_url, query, ACCEPT)
    first, *rest = _parts(r.content)
    assert "vendor" not in json.dumps(first)
    assert [p["hasNext"] for p in rest] == [True, False]
    outer, inner = (p["incremental"] for p in rest)
    assert {i["label"] for i in outer} == {"outer"}
    assert {i["label"] for i in inner} == {"inner"}
    by_path = {tuple(i["path"]): i for i in inner}
    assert by_path[("charters", 0, "vehicles", 0, "vendor")]["data"] == {"rating": 4.5}
    # vendor b's rating fails: the error rides in that item, at its path
    failed = [i for i in inner if i.get("errors")]
    assert failed
    assert all(e["path"][: len(i["path"])] == i["path"] for i in failed for e in i["errors"])
    assert "rating service unavailable" in json.dumps(failed)


async def _node(script: str, *args: str) -> dict[str, Any]:
    return dict((await run_client(script, *args))[-1])


async def test_apollo_client_and_urql_receive_the_deferred_fragment(router_url: str) -> None:
    url = f"{router_url}/graphql"
    query = "query One { charters { id ... @defer { reference } } }"
    apollo = await _node("apollo.mjs", "defer", url, query)
    urql = await _node("urql_defer.mjs", url, query)
    for got in (apollo, urql):
        results = got["results"]
        assert len(results) >= 2, got
        assert "reference" not in json.dumps(results[0])
        first = results[-1]["data"]["charters"][0]
        assert {k: first[k] for k in ("id", "reference")} == {"id": "c1", "reference": "CH-1"}
