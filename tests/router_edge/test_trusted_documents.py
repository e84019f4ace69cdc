"""Trusted documents: a manifest, lookups by id, and a mode that runs nothing else.

The manifest in both formats (Apollo's persisted query manifest, a plain
`{id: document}` map) is read by `TrustedDocuments`; lookups and the
trusted-only mode are `PersistedQueries.resolve`, tested directly. Then one
real trusted-only router (with batching on) over the recording `accounts`
subgraph: a document outside its manifest is refused over POST, GET, SSE,
graphql-transport-ws, a multipart upload and a batch, and never reaches the
subgraph; manifest documents run by `documentId` on each transport; and
Apollo Client's own PersistedQueryLink (tools/graphql-http/apollo.mjs) runs
a manifest query by hash alone and is refused the one it lacks.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse, print_ast
from websockets.asyncio.client import connect

from router.config import load_config
from router.guard.persisted_queries import PersistedQueries, sha256_hex
from router.guard.trusted_documents import ManifestError, TrustedDocuments
from tests.router_edge.router_harness import (
    Subgraph,
    base_config,
    router,
    subgraph,
    write_supergraph,
)
from tests.support.node_clients import run_client

PREFLIGHT = {"graphql-preflight": "1"}
GRAPHQL_RESPONSE = {"accept": "application/graphql-response+json"}
# what Apollo Client sends for these: graphql-js `print` of the parsed document
# (graphql-core's `print_ast` writes the same); scalar fields only, so its
# cache adds no __typename
HELLO = print_ast(parse("query Hello { hello }"))
USERS = print_ast(parse("query Users { users(first: 2) { id name } }"))
OUTSIDE = print_ast(parse("query Outside { secret }"))
ONLY = ("Only operations in the trusted documents manifest are accepted.", "PERSISTED_QUERY_ONLY")


def apollo_manifest(*bodies: str) -> dict[str, Any]:
    """What @apollo/generate-persisted-query-manifest writes (ids: sha256 of the body)."""
    return {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [
            {"id": sha256_hex(b), "name": b.split()[1], "type": "query", "body": b} for b in bodies
        ],
    }


# -- the manifest and the resolver, directly -----------------------------------


def test_both_manifest_formats_name_documents_by_id_and_by_hash(tmp_path: Path) -> None:
    apollo = tmp_path / "apollo.json"
    apollo.write_text(json.dumps(apollo_manifest(HELLO, USERS)))
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"hello-v1": HELLO, "users-v1": USERS}))
    a, p = TrustedDocuments.load(apollo), TrustedDocuments.load(plain)
    assert len(a) == len(p) == 2
    digest = sha256_hex(HELLO)
    for docs in (a, p):
        assert docs.by_sha256(digest) == HELLO
        assert docs.by_sha256(digest.upper()) == HELLO
        assert docs.by_document_id(f"sha256:{digest}") == HELLO
        assert docs.by_document_id(digest) == HELLO
        assert docs.contains(USERS)
        assert not docs.contains(OUTSIDE)
        assert docs.by_document_id("nope") is None
    assert p.by_document_id("users-v1") == USERS
    assert a.by_document_id("users-v1") is None


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("not json", "is not JSON"),
        ('["a list"]', "expected an apollo-persisted-query-manifest"),
        ('{"format": "apollo-persisted-query-manifest", "version": 2}', "version 2"),
        (
            '{"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id": 1}]}',
            "operations[0] needs a string `id` and `body`",
        ),
        ('{"a": 3}', "entry 'a' must map an id to a document string"),
    ],
)
def test_a_bad_manifest_stops_the_router_saying_why(
    tmp_path: Path, content: str, words: str
) -> None:
    path = tmp_path / "m.json"
    path.write_text(content)
    with pytest.raises(ManifestError, match=words.replace("[", r"\[").replace("]", r"\]")):
        TrustedDocuments.load(path)
    with pytest.raises(ManifestError, match="cannot read"):
        TrustedDocuments.load(tmp_path / "missing.json")


def _codes(outcome: Any) -> list[str]:
    return [e["extensions"]["code"] for e in outcome.errors]


async def test_trusted_only_runs_the_manifest_and_nothing_else() -> None:
    trusted = TrustedDocuments({"hello-v1": HELLO})
    apq = PersistedQueries(trusted=trusted, trusted_only=True)
    pq = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(HELLO)}}
    assert (await apq.resolve(HELLO, None)).query == HELLO
    assert (await apq.resolve(None, pq)).query == HELLO
    assert (await apq.resolve(HELLO, pq)).query == HELLO
    assert (await apq.resolve(None, None, "hello-v1")).query == HELLO
    assert (await apq.resolve(None, None, f"sha256:{sha256_hex(HELLO)}")).query == HELLO
    # outside the manifest: as text, as an APQ registration, or already in APQ's store
    outside = await apq.resolve(OUTSIDE, None)
    assert [(e["message"], e["extensions"]["code"]) for e in outside.errors] == [ONLY]
    registration = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(OUTSIDE)}}
    assert _codes(await apq.resolve(OUTSIDE, registration)) == ["PERSISTED_QUERY_ONLY"]
    await apq.store(sha256_hex(OUTSIDE), OUTSIDE)  # e.g. written by a lenient replica
    assert _codes(await apq.resolve(OUTSIDE, None)) == ["PERSISTED_QUERY_ONLY"]
    assert _codes(await apq.resolve(None, registration)) == ["PERSISTED_QUERY_NOT_FOUND"]
    assert _codes(await apq.resolve(None, None, f"sha256:{sha256_hex(OUTSIDE)}")) == [
        "PERSISTED_QUERY_NOT_FOUND"
    ]
    missing = await apq.resolve(None, None, "users-v9")
    assert missing.errors[0]["message"] == "Persisted document 'users-v9' not found."
    assert _codes(await apq.resolve(HELLO, None, "hello-v1")) == ["BAD_REQUEST"]
    with pytest.raises(ValueError, match="needs a trusted documents manifest"):
        PersistedQueries(trusted_only=True)


async def test_without_the_mode_the_manifest_adds_lookups_and_apq_still_works() -> None:
    apq = PersistedQueries(trusted=TrustedDocuments({"hello-v1": HELLO}))
    assert (await apq.resolve(OUTSIDE, None)).query == OUTSIDE
    assert (await apq.resolve(None, None, "hello-v1")).query == HELLO
    registration = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(OUTSIDE)}}
    assert (await apq.resolve(OUTSIDE, registration)).ok
    # a document APQ registered is found by its `sha256:` id as well
    assert (await apq.resolve(None, None, f"sha256:{sha256_hex(OUTSIDE)}")).query == OUTSIDE


def test_configuration_from_the_environment(tmp_path: Path) -> None:
    env = {
        "ROUTER_TRUSTED_DOCUMENTS": str(tmp_path / "m.json"),
        "ROUTER_TRUSTED_DOCUMENTS_ONLY": "1",
        "ROUTER_BATCHING": "true",
        "ROUTER_BATCH_MAX_SIZE": "4",
    }
    config = load_config([], env)
    assert config.trusted_documents == str(tmp_path / "m.json")
    assert config.trusted_documents_only
    assert config.batching
    assert config.batch_max_size == 4
    defaults = load_config([], {})
    assert defaults.trusted_documents is None
    assert not defaults.trusted_documents_only
    assert not defaults.batching
    assert defaults.batch_max_size == 10
    with pytest.raises(SystemExit):
        load_config([], {"ROUTER_TRUSTED_DOCUMENTS_ONLY": "1"})


# -- a real trusted-only router --------------------------------------------------


@dataclass
class Live:
    graphql_url: str
    ws_url: str
    accounts: Subgraph


@pytest.fixture(scope="module")
async def live(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    tmp = tmp_path_factory.mktemp("trusted")
    manifest = tmp / "manifest.json"
    manifest.write_text(json.dumps(apollo_manifest(HELLO, USERS)))
    async with subgraph() as accounts:
        config = base_config(
            write_supergraph(tmp, accounts.url),
            trusted_documents=str(manifest),
            trusted_documents_only=True,
            batching=True,
        )
        async with router(config) as server:
            yield Live(server.graphql_url, server.ws_url, accounts)


@pytest.fixture(autouse=True)
def _forget(live: Live) -> None:
    live.accounts.clear()


async def _ws(url: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """One operation over graphql-transport-ws; its messages until error or complete."""
    out: list[dict[str, Any]] = []
    async with connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        while True:
            m = json.loads(await ws.recv())
            out.append(m)
            if m["type"] in ("error", "complete"):
                return out


def _sse_bodies(text: str) -> list[dict[str, Any]]:
    return [
        json.loads(line.removeprefix("data: "))
        for line in text.splitlines()
        if line.startswith("data: {")
    ]


def _pairs(errors: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["message"], e["extensions"]["code"]) for e in errors]


async def test_a_document_missing_from_the_manifest_is_refused_on_every_transport(
    live: Live,
) -> None:
    payload = {"query": OUTSIDE}
    async with httpx.AsyncClient(timeout=5) as c:
        post = await c.post(live.graphql_url, json=payload, headers=GRAPHQL_RESPONSE)
        get = await c.get(
            live.graphql_url, params=payload, headers={**PREFLIGHT, **GRAPHQL_RESPONSE}
        )
        sse = await c.post(live.graphql_url, json=payload, headers={"accept": "text/event-stream"})
        upload = await c.post(
            live.graphql_url,
            files={
                "operations": (None, json.dumps({"query": "mutation { touch }"}).encode()),
                "map": (None, b"{}"),
            },
            headers={**PREFLIGHT, **GRAPHQL_RESPONSE},
        )
        batch = await c.post(live.graphql_url, json=[{"query": HELLO}, payload, {"query": USERS}])
        # an APQ client registering it: hash and text together
        apq = await c.post(
            live.graphql_url,
            json={
                "query": OUTSIDE,
                "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(OUTSIDE)}},
            },
            headers=GRAPHQL_RESPONSE,
        )
    ws = await _ws(live.ws_url, payload)
    for r in (post, get, sse, upload, apq):
        assert (r.status_code, _pairs(r.json()["errors"])) == (400, [ONLY]), r.text
    assert ws[-1]["type"] == "error"
    assert _pairs(ws[-1]["payload"]) == [ONLY]
    assert batch.status_code == 200
    hello, outside, users = batch.json()
    assert _pairs(outside["errors"]) == [ONLY]
    assert hello == {"data": {"hello": "world"}}
    assert users["data"]["users"] == [{"id": "0", "name": "user0"}, {"id": "1", "name": "user1"}]
    # the two manifest operations of the batch reached the subgraph; nothing else did
    assert len(live.accounts.bodies) == 2
    assert all(
        "secret" not in b["query"] and "touch" not in b["query"] for b in live.accounts.bodies
    )


async def test_manifest_documents_run_by_document_id_on_every_transport(live: Live) -> None:
    by_hash = {"documentId": f"sha256:{sha256_hex(HELLO)}"}
    async with httpx.AsyncClient(timeout=5) as c:
        post = await c.post(live.graphql_url, json=by_hash)
        relay = await c.post(live.graphql_url, json={"doc_id": sha256_hex(HELLO)})
        get = await c.get(live.graphql_url, params=by_hash, headers=PREFLIGHT)
        sse = await c.post(live.graphql_url, json=by_hash, headers={"accept": "text/event-stream"})
        unknown = await c.post(
            live.graphql_url, json={"documentId": "sha256:" + "0" * 64}, headers=GRAPHQL_RESPONSE
        )
    ws = await _ws(live.ws_url, by_hash)
    hello = {"data": {"hello": "world"}}
    assert post.json() == relay.json() == get.json() == hello
    assert _sse_bodies(sse.text) == [hello]
    assert [m["type"] for m in ws] == ["next", "complete"]
    assert ws[0]["payload"] == hello
    assert unknown.status_code == 400
    assert _pairs(unknown.json()["errors"]) == [
        (f"Persisted document 'sha256:{'0' * 64}' not found.", "PERSISTED_QUERY_NOT_FOUND")
    ]
    assert len(live.accounts.bodies) == 5


async def test_apollo_clients_persisted_query_link_against_the_trusted_only_router(
    live: Live,
) -> None:
    """Apollo Client 4's PersistedQueryLink: the hash alone for manifest documents."""
    (result,) = await run_client("apollo.mjs", "persisted", live.graphql_url, HELLO, OUTSIDE)
    hello, outside = result["answers"]
    assert hello == {"data": {"hello": "world"}, "error": None, "codes": []}
    assert outside["data"] is None
    assert outside["codes"] == ["PERSISTED_QUERY_ONLY"]
    sent = [s["body"] for s in result["sent"]]
    # the manifest query went as its hash alone, once; the other one's hash was not
    # found, the link retried with its text, and the router refused it
    assert sent[0]["extensions"]["persistedQuery"]["sha256Hash"] == sha256_hex(HELLO)
    assert "query" not in sent[0]
    assert [("query" in b, b["extensions"]["persistedQuery"]["sha256Hash"]) for b in sent[1:]] == [
        (False, sha256_hex(OUTSIDE)),
        (True, sha256_hex(OUTSIDE)),
    ]
    assert len(live.accounts.bodies) == 1
