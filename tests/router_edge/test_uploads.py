"""Uploads through the router (issue 9, section 3).

A real router in-process over a real identity and a real vendors subgraph,
both with `ROUTER_SECRETS` set (the gate is on), the checked-in supergraph
pointed at them. Uploads are sent as Apollo's and urql's upload clients
send them (the GraphQL multipart request spec: `operations`, `map`, then
the files, with `apollo-require-preflight`). The vendors app is wrapped,
outside its gate, to record every request that reaches it: a refused
upload must not reach it at all.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import secrets
from collections.abc import AsyncIterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from protocol import router_credential
from router.config import Config
from router.server.app import create_app
from router.server.holder import GatewayHolder
from subgraphs.identity.app import create_app as identity_app
from subgraphs.kit.auth.router_gate import RouterOnly
from subgraphs.kit.settings import Settings
from subgraphs.vendors.app import create_app as vendors_app
from subgraphs.vendors.models import Document
from tests.support.live_server import LiveServer, serve
from tests.support.tokens import TokenMinter
from tests.support.vendors_facts import vendor_user

SUPERGRAPH = Path(__file__).parents[2] / "schema" / "supergraph.graphql"
SECRET = secrets.token_urlsafe(32)
PREFLIGHT = {"apollo-require-preflight": "true"}
MiB = 1024 * 1024

UPLOAD = """
mutation Upload($vendorId: ID!, $file: Upload!) {
  uploadVendorDocument(vendorId: $vendorId, file: $file) {
    document { id filename contentType sizeBytes sha256 }
    userErrors { field code message }
  }
}"""

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


@dataclass
class Seen:
    """What reached the vendors app (before its gate): method, content type, body size."""

    requests: list[tuple[str, str, int]] = field(default_factory=list)

    def multipart(self) -> list[tuple[str, str, int]]:
        return [r for r in self.requests if r[1].startswith("multipart/form-data")]


class Recorder:
    """ASGI wrapper recording each /graphql request and its body as it is read."""

    def __init__(self, app: Any, seen: Seen) -> None:
        self.app, self.seen = app, seen

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/graphql":
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        index = len(self.seen.requests)
        self.seen.requests.append((scope["method"], headers.get("content-type", ""), 0))

        async def counting() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                method, ctype, size = self.seen.requests[index]
                self.seen.requests[index] = (method, ctype, size + len(message.get("body", b"")))
            return message

        await self.app(scope, counting, send)


@dataclass
class Stack:
    router: LiveServer
    vendors: LiveServer
    seen: Seen
    documents: Path
    http: httpx.AsyncClient


def rewrite(sdl: str, urls: dict[str, str]) -> str:
    return re.sub(
        r'@join__graph\(name: "(\w+)", url: "[^"]*"\)',
        lambda m: (
            f'@join__graph(name: "{m[1]}", url: "{urls.get(m[1], "http://127.0.0.1:9/graphql")}")'
        ),
        sdl,
    )


@pytest.fixture(scope="module")
async def guarded(
    subgraph_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[LiveServer, LiveServer, Seen, Path]]:
    """Identity and vendors with the router's secret: they answer only the router."""
    documents = tmp_path_factory.mktemp("routed-documents")
    settings = subgraph_settings.model_copy(
        update={
            "router_secrets": SECRET,
            "documents_dir": documents,
            "compliance_job_enabled": False,
        }
    )
    seen = Seen()
    async with (
        serve(identity_app(settings)) as identity,
        serve(Recorder(vendors_app(settings), seen)) as vendors,
    ):
        yield identity, vendors, seen, documents


async def _router(
    subgraph_settings: Settings,
    identity: LiveServer,
    vendors: LiveServer,
    directory: Path,
    sdl_change: Any = None,
) -> Any:
    sdl = rewrite(
        SUPERGRAPH.read_text(),
        {"identity": identity.graphql_url, "vendors": vendors.graphql_url},
    )
    if sdl_change is not None:
        sdl = sdl_change(sdl)
    (directory / "supergraph.graphql").write_text(sdl)
    config = Config(
        supergraph=str(directory / "supergraph.graphql"),
        subgraph_timeout=20,
        jwks_url=subgraph_settings.jwks_url,
        router_secrets=(SECRET,),
    )
    holder = GatewayHolder(config)
    assert holder.try_load()
    return create_app(config, holder)


@pytest.fixture
async def stack(
    guarded: tuple[LiveServer, LiveServer, Seen, Path],
    subgraph_settings: Settings,
    http_client: httpx.AsyncClient,
    tmp_path: Path,
) -> AsyncIterator[Stack]:
    identity, vendors, seen, documents = guarded
    empty(documents)
    app = await _router(subgraph_settings, identity, vendors, tmp_path)
    async with serve(app) as router:
        seen.requests.clear()
        yield Stack(router, vendors, seen, documents, http_client)


def empty(documents: Path) -> None:
    """Forget the files earlier tests stored (the rows are truncated after each test)."""
    for path in sorted(documents.rglob("*"), reverse=True):
        if path.is_file():
            path.unlink()


def operations(vendor_id: str) -> str:
    return json.dumps({"query": UPLOAD, "variables": {"vendorId": vendor_id, "file": None}})


async def send_upload(
    http: httpx.AsyncClient,
    url: str,
    vendor_id: str,
    content: bytes,
    *,
    token: str | None,
    headers: dict[str, str] | None = None,
    filename: str = "insurance.pdf",
) -> httpx.Response:
    """What apollo-upload-client sends: operations, map, then file "1"."""
    sent = dict(PREFLIGHT if headers is None else headers)
    if token:
        sent["authorization"] = f"Bearer {token}"
    return await http.post(
        url,
        data={"operations": operations(vendor_id), "map": json.dumps({"1": ["variables.file"]})},
        files={"1": (filename, content, "application/pdf")},
        headers=sent,
        timeout=60,
    )


async def stored(sessions: Any, documents: Path) -> tuple[int, int]:
    """(document rows, stored files)."""
    async with sessions() as session:
        rows = await session.scalar(select(func.count()).select_from(Document))
    files = await asyncio.to_thread(lambda: [p for p in documents.rglob("*") if p.is_file()])
    return int(rows or 0), len(files)


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]


@pytest.fixture
async def vendor_portal(make_vendor: Any, vendors_staff: Any, vendors_as: Any) -> Any:
    """A vendor and a vendor-role login linked to it (set up on the unguarded vendors app)."""
    vendor = await make_vendor("Routed Uploads Coaches")
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    return vendor, portal


# -- through the router -------------------------------------------------------------------------


async def test_a_vendor_uploads_a_document_through_the_router(
    stack: Stack, vendor_portal: Any, sessions: Any
) -> None:
    vendor, portal = vendor_portal
    # past the 1 MiB kept in memory: the router and the gate both spool it to disk
    content = PDF + bytes(range(256)) * (3 * MiB // 256)

    response = await send_upload(
        stack.http, stack.router.graphql_url, vendor["id"], content, token=portal.token
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    payload = body["data"]["uploadVendorDocument"]
    assert payload["userErrors"] == []
    document = payload["document"]
    assert document["filename"] == "insurance.pdf"
    assert document["contentType"] == "application/pdf"
    assert document["sizeBytes"] == len(content)
    assert document["sha256"] == hashlib.sha256(content).hexdigest()
    # one multipart request reached vendors, through its gate, and the bytes are the client's
    (request,) = stack.seen.requests
    assert request[0] == "POST"
    assert request[1].startswith("multipart/form-data")
    assert request[2] > len(content)
    assert await stored(sessions, stack.documents) == (1, 1)
    (kept,) = [p for p in stack.documents.rglob("*") if p.is_file()]
    assert kept.read_bytes() == content


async def test_an_upload_over_the_limit_is_413_and_reaches_nothing(
    stack: Stack, vendor_portal: Any, sessions: Any
) -> None:
    vendor, portal = vendor_portal
    over = PDF + b"0" * (Config().max_upload_bytes + 1)

    declared = await send_upload(
        stack.http, stack.router.graphql_url, vendor["id"], over, token=portal.token
    )

    # without a Content-Length (chunked): the running count refuses it while reading
    boundary = "----uploadboundary"

    async def chunked() -> AsyncIterator[bytes]:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
            f"{operations(vendor['id'])}\r\n--{boundary}\r\n"
            'Content-Disposition: form-data; name="map"\r\n\r\n{"1": ["variables.file"]}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="1"; '
            'filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        for _ in range(12):
            yield b"0" * MiB
        yield f"\r\n--{boundary}--\r\n".encode()

    streamed = await stack.http.post(
        stack.router.graphql_url,
        content=chunked(),
        headers={
            **PREFLIGHT,
            "authorization": f"Bearer {portal.token}",
            "content-type": f"multipart/form-data; boundary={boundary}",
        },
        timeout=60,
    )

    for response in (declared, streamed):
        assert response.status_code == 413, response.text
        assert codes(response) == ["PAYLOAD_TOO_LARGE"]
    assert "content-length" not in {k.lower() for k in streamed.request.headers}
    assert stack.seen.requests == []
    assert await stored(sessions, stack.documents) == (0, 0)


async def test_a_multipart_request_without_a_preflight_header_is_refused_by_csrf(
    stack: Stack, vendor_portal: Any, sessions: Any
) -> None:
    vendor, portal = vendor_portal

    response = await send_upload(
        stack.http, stack.router.graphql_url, vendor["id"], PDF, token=portal.token, headers={}
    )

    assert response.status_code == 400
    assert codes(response) == ["CSRF_ERROR"]
    assert stack.seen.requests == []
    assert await stored(sessions, stack.documents) == (0, 0)


async def test_an_anonymous_upload_is_refused_before_anything_reaches_the_subgraph(
    stack: Stack, vendor_portal: Any, sessions: Any
) -> None:
    vendor, _ = vendor_portal

    anonymous = await send_upload(
        stack.http, stack.router.graphql_url, vendor["id"], PDF, token=None
    )
    forged = await send_upload(
        stack.http, stack.router.graphql_url, vendor["id"], PDF, token="not-a-token"
    )

    for response in (anonymous, forged):
        assert response.status_code == 401, response.text
        assert codes(response) == ["UNAUTHENTICATED"]
    assert stack.seen.requests == []
    assert await stored(sessions, stack.documents) == (0, 0)


async def test_an_unauthorized_upload_is_refused_before_anything_reaches_the_subgraph(
    guarded: tuple[LiveServer, LiveServer, Seen, Path],
    subgraph_settings: Settings,
    http_client: httpx.AsyncClient,
    mint: TokenMinter,
    vendor_portal: Any,
    sessions: Any,
    tmp_path: Path,
) -> None:
    identity, vendors, seen, documents = guarded
    empty(documents)
    vendor, portal = vendor_portal
    # The checked-in supergraph: vendors publishes who may upload as @requiresScopes.
    app = await _router(subgraph_settings, identity, vendors, tmp_path)
    client_token = await mint("client")
    async with serve(app) as router:
        seen.requests.clear()
        refused = await send_upload(
            http_client, router.graphql_url, vendor["id"], PDF, token=client_token
        )
        assert seen.requests == []
        allowed = await send_upload(
            http_client, router.graphql_url, vendor["id"], PDF, token=portal.token
        )

    assert refused.status_code == 403, refused.text
    assert codes(refused) == ["UNAUTHORIZED_FIELD_OR_TYPE"]
    assert "data" not in refused.json()
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["data"]["uploadVendorDocument"]["userErrors"] == []
    assert len(seen.multipart()) == 1
    assert await stored(sessions, documents) == (1, 1)


async def test_files_for_a_variable_the_operation_lacks_are_refused(
    stack: Stack, vendor_portal: Any, sessions: Any
) -> None:
    vendor, portal = vendor_portal

    response = await stack.http.post(
        stack.router.graphql_url,
        data={
            "operations": operations(vendor["id"]),
            "map": json.dumps({"1": ["variables.photo"]}),
        },
        files={"1": ("x.pdf", PDF, "application/pdf")},
        headers={**PREFLIGHT, "authorization": f"Bearer {portal.token}"},
    )

    assert response.status_code == 400
    assert "variables.photo" in response.json()["errors"][0]["message"]
    assert stack.seen.requests == []


async def test_the_map_must_follow_operations(stack: Stack, vendor_portal: Any) -> None:
    vendor, portal = vendor_portal

    response = await stack.http.post(
        stack.router.graphql_url,
        data={"map": json.dumps({"1": ["variables.file"]}), "operations": operations(vendor["id"])},
        files={"1": ("x.pdf", PDF, "application/pdf")},
        headers={**PREFLIGHT, "authorization": f"Bearer {portal.token}"},
    )

    assert response.status_code == 400
    assert "operations" in response.json()["errors"][0]["message"]
    assert stack.seen.requests == []


# -- the subgraph's gate --------------------------------------------------------------------------


def multipart_body(vendor_id: str, content: bytes) -> tuple[bytes, str]:
    request = httpx.Request(
        "POST",
        "http://x/graphql",
        data={"operations": operations(vendor_id), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("coi.pdf", content, "application/pdf")},
    )
    return request.read(), request.headers["content-type"]


async def test_a_direct_multipart_to_the_subgraph_without_the_routers_signature_is_401(
    stack: Stack, vendor_portal: Any, sessions: Any
) -> None:
    vendor, portal = vendor_portal
    body, content_type = multipart_body(vendor["id"], PDF)
    headers = {"content-type": content_type, "authorization": f"Bearer {portal.token}"}

    unsigned = await stack.http.post(stack.vendors.graphql_url, content=body, headers=headers)
    wrong = await stack.http.post(
        stack.vendors.graphql_url,
        content=body,
        headers={**headers, router_credential.HEADER: router_credential.sign("other", body)},
    )
    signed = await stack.http.post(
        stack.vendors.graphql_url,
        content=body,
        headers={**headers, router_credential.HEADER: router_credential.sign(SECRET, body)},
    )

    for response in (unsigned, wrong):
        assert response.status_code == 401
        assert codes(response) == ["UNAUTHENTICATED"]
    # the unsigned one was refused before its body was read
    assert stack.seen.requests[0][2] == 0
    # the same body with the router's signature is what the router sends: it is stored
    assert signed.status_code == 200, signed.text
    assert signed.json()["data"]["uploadVendorDocument"]["userErrors"] == []
    assert await stored(sessions, stack.documents) == (1, 1)


async def test_the_gate_refuses_an_oversized_body_while_reading_it(
    stack: Stack, vendor_portal: Any, sessions: Any
) -> None:
    vendor, portal = vendor_portal
    body, content_type = multipart_body(vendor["id"], PDF + b"0" * (13 * MiB))
    headers = {
        "content-type": content_type,
        "authorization": f"Bearer {portal.token}",
        router_credential.HEADER: router_credential.sign(SECRET, body),
    }

    async def chunks() -> AsyncIterator[
        bytes
    ]:  # no Content-Length: only the running count can stop it
        for i in range(0, len(body), MiB):
            yield body[i : i + MiB]

    try:
        response = await stack.http.post(
            stack.vendors.graphql_url, content=chunks(), headers=headers, timeout=60
        )
    except httpx.TransportError:  # the server may close while the client still writes
        response = None

    if response is not None:
        assert response.status_code == 413
        assert codes(response) == ["PAYLOAD_TOO_LARGE"]
    assert await stored(sessions, stack.documents) == (0, 0)
    ((method, _, read),) = stack.seen.requests
    assert method == "POST"
    # it stopped reading once past the limit, and a body at most that large was read
    assert read <= 12 * MiB + MiB
    assert read < len(body)


async def test_the_gate_reads_no_further_than_its_limit_and_never_calls_the_app() -> None:
    """The middleware alone, over its ASGI messages: chunks pulled, app calls."""
    called: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        called.append(scope["path"])

    gate = RouterOnly(app, secrets=[SECRET], max_body_bytes=1000)
    pulled = 0

    async def receive() -> MutableMapping[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * 300, "more_body": True}

    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "path": "/graphql",
        "query_string": b"",
        "headers": [
            (router_credential.HEADER.encode(), router_credential.sign(SECRET, b"").encode())
        ],
    }
    await gate(scope, receive, send)

    assert sent[0]["status"] == 413
    assert pulled == 4  # 1200 bytes: the fourth chunk passed 1000, and reading stopped
    assert called == []
