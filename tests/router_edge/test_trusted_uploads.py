"""Trusted documents on the upload transport: a multipart `operations` part by `documentId`.

An upload's `operations` part is read as a JSON POST's body is
(`router/server/payload.py`), so `documentId`/`doc_id` reach the one lookup
every transport uses (`PersistedQueries.resolve`). One real trusted-only
router over a tiny `files` subgraph that takes multipart uploads: a manifest
document sent by id uploads its file; an id the manifest lacks, and a text
outside it, are refused before anything reaches the subgraph.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse, print_ast
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from router.guard.persisted_queries import sha256_hex
from router.server.uploads import PLACEHOLDER, _Bad, _payload
from tests.router_edge.router_harness import Signer, base_config, jwks_signer, router
from tests.router_edge.test_trusted_documents import apollo_manifest
from tests.support.live_server import LiveServer, serve

PREFLIGHT = {
    "apollo-require-preflight": "true",
    # a refusal is a 400 in this media type (200 in application/json)
    "accept": "application/graphql-response+json",
}
UPLOAD = print_ast(parse("mutation Attach($file: Upload!) { attach(file: $file) }"))
OUTSIDE = print_ast(parse("mutation Other($file: Upload!) { attach(file: $file) }"))
FILE_MAP = {"0": ["variables.file"]}

SUPERGRAPH = """
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION) {
  query: Query
  mutation: Mutation
}
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet,
  type: String, external: Boolean, override: String, usedOverridden: Boolean
) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false,
  resolvable: Boolean! = true, isInterfaceObject: Boolean! = false
) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
scalar join__FieldSet
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
scalar link__Import
enum link__Purpose { SECURITY EXECUTION }
enum join__Graph { FILES @join__graph(name: "files", url: "{url}") }
scalar Upload @join__type(graph: FILES)
type Query @join__type(graph: FILES) { ok: Boolean }
type Mutation @join__type(graph: FILES) { attach(file: Upload!): String }
"""


@dataclass
class Files:
    """The `files` subgraph: what each multipart request it received carried."""

    server: LiveServer
    received: list[dict[str, Any]] = field(default_factory=list)


def _files_app(record: Files) -> Starlette:
    async def endpoint(request: Request) -> Response:
        form = await request.form()
        operations = json.loads(str(form["operations"]))
        upload = form["0"]
        assert isinstance(upload, UploadFile)
        content = await upload.read()
        record.received.append({"operations": operations, "map": json.loads(str(form["map"]))})
        return JSONResponse({"data": {"attach": f"{upload.filename}:{len(content)}"}})

    return Starlette(routes=[Route("/graphql", endpoint, methods=["POST"])])


@contextlib.asynccontextmanager
async def files_subgraph() -> AsyncIterator[Files]:
    record = Files(LiveServer("127.0.0.1", 0))
    async with serve(_files_app(record)) as server:
        record.server = server
        yield record


@dataclass
class Live:
    url: str
    files: Files
    signer: Signer


@pytest.fixture(scope="module")
async def live(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    tmp = tmp_path_factory.mktemp("trusted-uploads")
    manifest = tmp / "manifest.json"
    manifest.write_text(json.dumps(apollo_manifest(UPLOAD)))
    async with files_subgraph() as files, jwks_signer() as signer:
        supergraph = tmp / "supergraph.graphql"
        supergraph.write_text(SUPERGRAPH.replace("{url}", files.server.graphql_url))
        config = base_config(
            Path(supergraph),
            jwks_url=signer.jwks_url,
            trusted_documents=str(manifest),
            trusted_documents_only=True,
        )
        async with router(config) as server:
            yield Live(server.graphql_url, files, signer)


async def _upload(live: Live, operations: dict[str, Any]) -> httpx.Response:
    """What apollo-upload-client sends, its operations part as given."""
    headers = {**PREFLIGHT, "authorization": f"Bearer {live.signer.token()}"}
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(
            live.url,
            data={"operations": json.dumps(operations), "map": json.dumps(FILE_MAP)},
            files={"0": ("notes.txt", b"hello", "text/plain")},
            headers=headers,
        )


def _codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]


def test_the_operations_part_is_read_with_its_document_id() -> None:
    placed = {"0": [["variables", "file"]]}
    by_id = _payload(b'{"documentId": "sha256:abc", "variables": {"file": null}}', placed)
    assert (by_id.query, by_id.document_id) == (None, "sha256:abc")
    assert by_id.variables == {"file": PLACEHOLDER}
    relay = _payload(b'{"doc_id": "attach-v1"}', {})
    assert (relay.document_id, relay.variables) == ("attach-v1", {})
    with pytest.raises(_Bad, match="Invalid GraphQL request in the operations part"):
        _payload(b'{"documentId": 7}', {})


async def test_a_trusted_only_router_uploads_a_manifest_document_sent_by_id(live: Live) -> None:
    live.files.received.clear()
    digest = sha256_hex(UPLOAD)
    by_id = await _upload(live, {"documentId": f"sha256:{digest}", "variables": {"file": None}})
    relay = await _upload(live, {"doc_id": digest, "variables": {"file": None}})
    assert by_id.status_code == relay.status_code == 200, by_id.text
    assert by_id.json() == relay.json() == {"data": {"attach": "notes.txt:5"}}
    # the manifest's document went to the subgraph, the file in the variable's place
    assert [r["map"] for r in live.files.received] == [FILE_MAP, FILE_MAP]
    sent = live.files.received[0]["operations"]
    assert "attach(file: $file)" in sent["query"]
    assert sent["variables"] == {"file": None}


async def test_an_unknown_document_id_or_text_outside_the_manifest_uploads_nothing(
    live: Live,
) -> None:
    live.files.received.clear()
    unknown = await _upload(live, {"documentId": "sha256:" + "0" * 64, "variables": {"file": None}})
    outside = await _upload(live, {"query": OUTSIDE, "variables": {"file": None}})
    assert (unknown.status_code, _codes(unknown)) == (400, ["PERSISTED_QUERY_NOT_FOUND"])
    assert (outside.status_code, _codes(outside)) == (400, ["PERSISTED_QUERY_ONLY"])
    assert live.files.received == []
