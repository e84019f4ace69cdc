"""Documents on charters (issue 14 §3): uploads through the real router, versions, scoped reads.

A charters app of its own stores documents in a temporary directory; the
real router, over it and identity, carries GraphQL multipart requests. Each
reader is a real token: staff, the charter's client and another company's,
two vendors with access to the charter (one assigned, one that bid) and one
without, a driver. Vendors' access comes through charters' own handlers of
vendors' events, as in production.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from subgraphs.charters.app import create_app
from subgraphs.charters.models import AuditEntry, CharterDocument, CharterDocumentVersion
from subgraphs.charters.service.vendor_access import apply_access_event, apply_vendor_user_event
from subgraphs.kit.settings import Settings
from tests.support.charters_fixtures import apply_event, event_now
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve
from tests.support.router import serve_router
from tests.support.tokens import TokenMinter

MAX_BYTES = 4096
DOCUMENT_FIELDS = """id category name expiresOn versionCount createdBy { id }
  currentVersion { id version filename contentType sizeBytes sha256 downloadPath }
  versions { id version contentType sha256 downloadPath uploadedBy { id } }"""
UPLOAD = f"""
mutation($charterId: ID!, $category: CharterDocumentCategory!, $name: String!, $file: Upload!,
         $expiresOn: Date) {{
  uploadCharterDocument(charterId: $charterId, category: $category, name: $name, file: $file,
                        expiresOn: $expiresOn) {{
    document {{ {DOCUMENT_FIELDS} }}
    version {{ id version }}
    userErrors {{ field code message }}
  }}
}}"""
UPLOAD_VERSION = f"""
mutation($documentId: ID!, $file: Upload!, $expiresOn: Date) {{
  uploadCharterDocumentVersion(documentId: $documentId, file: $file, expiresOn: $expiresOn) {{
    document {{ {DOCUMENT_FIELDS} }}
    version {{ id version }}
    userErrors {{ field code message }}
  }}
}}"""
DOCUMENTS = """query($id: ID!) { charter(id: $id) { id documents(first: 100) { totalCount
  edges { node { id category name currentVersion { downloadPath } } } } } }"""
EXPIRING = """query($days: Int) { expiringCharterDocuments(withinDays: $days) { totalCount
  edges { node { id name expiresOn charter { id } } } } }"""

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + b"\x00" * 200 + b"\xff\xd9"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def zipped(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<xml/>")
    return buffer.getvalue()


DOCX = zipped("[Content_Types].xml", "_rels/.rels", "word/document.xml")
XLSX = zipped("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml")


@pytest.fixture(scope="module")
def documents_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("charter-documents")


@pytest.fixture(scope="module")
async def documents_server(
    subgraph_settings: Settings, documents_dir: Path
) -> AsyncIterator[LiveServer]:
    settings = subgraph_settings.model_copy(
        update={"documents_dir": documents_dir, "charter_document_max_bytes": MAX_BYTES}
    )
    async with serve(create_app(settings)) as server:
        yield server


@pytest.fixture(scope="module")
async def router_url(
    subgraph_settings: Settings,
    identity_server: LiveServer,
    documents_server: LiveServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[str]:
    urls = {"charters": documents_server.graphql_url, "identity": identity_server.graphql_url}
    directory = tmp_path_factory.mktemp("documents-router")
    async with serve_router(subgraph_settings.jwks_url, urls, directory) as router:
        yield router.graphql_url


@dataclass
class Caller:
    """One token, and where it sends uploads (the router), reads and downloads (charters)."""

    token: str | None
    router_url: str
    server: LiveServer
    http: httpx.AsyncClient

    async def upload(
        self,
        query: str,
        variables: dict[str, Any],
        content: bytes,
        content_type: str,
        filename: str = "file.pdf",
    ) -> dict[str, Any]:
        """A real GraphQL multipart request (operations, map, file part), as upload clients send."""
        operations = {"query": query, "variables": {**variables, "file": None}}
        headers = {"apollo-require-preflight": "true"}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        response = await self.http.post(
            self.router_url,
            data={
                "operations": json.dumps(operations),
                "map": json.dumps({"0": ["variables.file"]}),
            },
            files={"0": (filename, content, content_type)},
            headers=headers,
        )
        return response.json()  # type: ignore[no-any-return]

    async def read(self, query: str, variables: dict[str, Any]) -> Any:
        return await GraphQLClient(self.server.graphql_url, self.http, self.token)(query, variables)

    async def download(self, path: str) -> httpx.Response:
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
        return await self.http.get(self.server.base_url + path, headers=headers)


@dataclass
class World:
    charter_id: str
    staff: Caller
    client: Caller
    other_client: Caller
    vendor: Caller
    bidder: Caller
    outsider_vendor: Caller
    driver: Caller
    anonymous: Caller


async def vendor_account(vendor_id: uuid.UUID) -> uuid.UUID:
    """A vendor-role account charters knows works for `vendor_id` (vendors' link event)."""
    user_id = uuid.uuid4()
    await apply_event(
        apply_vendor_user_event,
        event_now({"userId": str(user_id), "vendorId": str(vendor_id)}),
    )
    return user_id


@pytest.fixture
async def world(
    staff: GraphQLClient,
    bookable_charter: Any,
    mint: TokenMinter,
    router_url: str,
    documents_server: LiveServer,
    http_client: httpx.AsyncClient,
) -> World:
    company = uuid.uuid4()
    charter = await bookable_charter(clientId=str(company))
    assigned, bidding, outsider = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    users = {v: await vendor_account(v) for v in (assigned, bidding, outsider)}
    # Vendors says who may read the charter: one vendor assigned, one that bid on it. A
    # vendors app running in this process may announce the new charter's (empty) access
    # through the real pipeline at any moment; this statement is dated after it, so it stays.
    await apply_event(
        apply_access_event,
        event_now(
            {
                "charterId": charter["id"],
                "asOf": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
                "vendors": [
                    {"vendorId": str(assigned), "reasons": ["assignment"]},
                    {"vendorId": str(bidding), "reasons": ["bid"]},
                ],
            }
        ),
    )

    def caller(token: str | None) -> Caller:
        return Caller(token, router_url, documents_server, http_client)

    return World(
        charter_id=charter["id"],
        staff=caller(await mint("manager")),
        client=caller(await mint("client", client_id=company)),
        other_client=caller(await mint("client", client_id=uuid.uuid4())),
        vendor=caller(await mint("vendor", user_id=users[assigned])),
        bidder=caller(await mint("vendor", user_id=users[bidding])),
        outsider_vendor=caller(await mint("vendor", user_id=users[outsider])),
        driver=caller(await mint("driver")),
        anonymous=caller(None),
    )


async def attach(
    who: Caller,
    charter_id: str,
    category: str,
    content: bytes = PDF,
    content_type: str = "application/pdf",
    *,
    name: str | None = None,
    expires_on: date | None = None,
    filename: str = "file.pdf",
) -> dict[str, Any]:
    body = await who.upload(
        UPLOAD,
        {
            "charterId": charter_id,
            "category": category,
            "name": name or f"{category.lower()} {uuid.uuid4().hex[:4]}",
            "expiresOn": expires_on.isoformat() if expires_on else None,
        },
        content,
        content_type,
        filename,
    )
    assert "errors" not in body, body
    return body["data"]["uploadCharterDocument"]  # type: ignore[no-any-return]


def problems(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def stored(sessions: Any, directory: Path) -> tuple[int, int, int]:
    """(document rows, version rows, stored files)."""
    async with sessions() as session:
        documents = await session.scalar(select(func.count()).select_from(CharterDocument))
        versions = await session.scalar(select(func.count()).select_from(CharterDocumentVersion))
    files = await asyncio.to_thread(lambda: [p for p in directory.rglob("*") if p.is_file()])
    return int(documents or 0), int(versions or 0), len(files)


# --- versions ---------------------------------------------------------------------------------


async def test_a_new_upload_adds_a_version_and_keeps_every_earlier_one(world: World, sessions):
    first = await attach(world.staff, world.charter_id, "CONTRACT", name="Charter contract")
    assert problems(first) == []
    document = first["document"]
    assert (document["category"], document["name"], document["versionCount"]) == (
        "CONTRACT",
        "Charter contract",
        1,
    )
    renewal = date.today() + timedelta(days=90)

    body = await world.staff.upload(
        UPLOAD_VERSION,
        {"documentId": document["id"], "expiresOn": renewal.isoformat()},
        PNG,
        "image/png",
        "signed-scan.png",
    )

    second = body["data"]["uploadCharterDocumentVersion"]
    assert problems(second) == []
    updated = second["document"]
    assert updated["versionCount"] == 2
    assert updated["expiresOn"] == renewal.isoformat()
    assert [(v["version"], v["contentType"]) for v in updated["versions"]] == [
        (2, "image/png"),
        (1, "application/pdf"),
    ]
    assert updated["currentVersion"]["filename"] == "signed-scan.png"
    assert updated["currentVersion"]["sha256"] == hashlib.sha256(PNG).hexdigest()
    for version, content in zip(updated["versions"], (PNG, PDF), strict=True):
        response = await world.client.download(version["downloadPath"])
        assert response.status_code == 200, response.text
        assert response.content == content
        assert response.headers["content-type"] == version["contentType"]
        assert response.headers["etag"] == f'"{version["sha256"]}"'
    async with sessions() as session:
        audited = (
            await session.execute(
                select(AuditEntry.entity, AuditEntry.action)
                .where(AuditEntry.charter_id == uuid.UUID(world.charter_id))
                .where(AuditEntry.entity.like("charter_document%"))
                .order_by(AuditEntry.at, AuditEntry.seq)
            )
        ).all()
    assert [tuple(a) for a in audited] == [
        ("charter_document", "document:create"),
        ("charter_document_version", "document:version"),
        ("charter_document", "document:new_version"),
        ("charter_document_version", "document:version"),
    ]


# --- who reads what ---------------------------------------------------------------------------


async def test_each_reader_sees_exactly_its_categories_and_downloads_only_those(world: World):
    staff_categories = ["TERMS_AND_CONDITIONS", "CONTRACT", "INVOICE", "RECEIPT", "JOB_SHEET"]
    made = {c: await attach(world.staff, world.charter_id, c) for c in staff_categories}
    made["CLIENT_DOCUMENT"] = await attach(world.client, world.charter_id, "CLIENT_DOCUMENT")
    made["VENDOR_BID"] = await attach(world.vendor, world.charter_id, "VENDOR_BID")
    rival_bid = await attach(world.bidder, world.charter_id, "VENDOR_BID")
    assert all(problems(p) == [] for p in [*made.values(), rival_bid]), made

    async def categories(who: Caller) -> set[str]:
        answer = await who.read(DOCUMENTS, {"id": world.charter_id})
        edges = answer.ok()["charter"]["documents"]["edges"]
        return {
            e["node"]["category"] for e in edges if e["node"]["id"] != rival_bid["document"]["id"]
        }

    client_reads = {"CLIENT_DOCUMENT", "TERMS_AND_CONDITIONS", "CONTRACT", "INVOICE", "RECEIPT"}
    assert await categories(world.staff) == set(made)
    assert await categories(world.client) == client_reads
    assert await categories(world.vendor) == {"VENDOR_BID", "JOB_SHEET"}
    # The rival bidder reads the job sheet and its own bid, never the assigned vendor's bid.
    rival_view = (await world.bidder.read(DOCUMENTS, {"id": world.charter_id})).ok()["charter"]
    assert {e["node"]["id"] for e in rival_view["documents"]["edges"]} == {
        made["JOB_SHEET"]["document"]["id"],
        rival_bid["document"]["id"],
    }
    for outsider in (world.other_client, world.outsider_vendor, world.driver):
        answer = await outsider.read(DOCUMENTS, {"id": world.charter_id})
        assert answer.data is None, answer.body
        assert answer.error_codes == ["NOT_FOUND"], answer.body

    def path(category: str) -> str:
        return made[category]["document"]["currentVersion"]["downloadPath"]  # type: ignore[no-any-return]

    expected = {
        "staff": (world.staff, set(made)),
        "client": (world.client, client_reads),
        "vendor": (world.vendor, {"VENDOR_BID", "JOB_SHEET"}),
        "rival bidder": (world.bidder, {"JOB_SHEET"}),
        "other client": (world.other_client, set()),
        "outsider vendor": (world.outsider_vendor, set()),
        "driver": (world.driver, set()),
    }
    wrong = []
    for label, (who, allowed) in expected.items():
        for category in made:
            status = (await who.download(path(category))).status_code
            if status != (200 if category in allowed else 404):
                wrong.append(f"{label} downloading {category}: {status}")
    assert wrong == []
    assert (await world.anonymous.download(path("CONTRACT"))).status_code == 401
    assert (await world.staff.download(f"/charter-documents/{uuid.uuid4()}")).status_code == 404


# --- who uploads what -------------------------------------------------------------------------


async def test_uploads_follow_the_category_table_and_refusals_store_nothing(
    world: World, sessions, documents_dir
):
    contract = await attach(world.staff, world.charter_id, "CONTRACT")
    bid = await attach(world.vendor, world.charter_id, "VENDOR_BID")
    own = await attach(world.client, world.charter_id, "CLIENT_DOCUMENT")
    assert problems(contract) == problems(bid) == problems(own) == []
    before = await stored(sessions, documents_dir)

    refused = [
        (world.client, "CONTRACT", ("category", "FORBIDDEN")),
        (world.client, "VENDOR_BID", ("category", "FORBIDDEN")),
        (world.vendor, "JOB_SHEET", ("category", "FORBIDDEN")),
        (world.vendor, "CLIENT_DOCUMENT", ("category", "FORBIDDEN")),
        (world.other_client, "CLIENT_DOCUMENT", ("charterId", "NOT_FOUND")),
        (world.outsider_vendor, "VENDOR_BID", ("charterId", "NOT_FOUND")),
    ]
    for who, category, expected in refused:
        assert problems(await attach(who, world.charter_id, category)) == [expected], category
    unknown = await attach(world.staff, str(uuid.uuid4()), "CONTRACT")
    assert problems(unknown) == [("charterId", "NOT_FOUND")]

    async def new_version(who: Caller, document: dict[str, Any]) -> list[Any]:
        body = await who.upload(
            UPLOAD_VERSION, {"documentId": document["document"]["id"]}, PDF, "application/pdf"
        )
        return problems(body["data"]["uploadCharterDocumentVersion"])

    # A document a caller reads but may not upload to; one it does not read at all.
    assert await new_version(world.client, contract) == [("documentId", "FORBIDDEN")]
    assert await new_version(world.bidder, bid) == [("documentId", "NOT_FOUND")]
    assert await new_version(world.other_client, own) == [("documentId", "NOT_FOUND")]
    assert await stored(sessions, documents_dir) == before

    # The router refuses a driver and anonymous callers before reading the file.
    driver = await world.driver.upload(
        UPLOAD,
        {"charterId": world.charter_id, "category": "JOB_SHEET", "name": "x"},
        PDF,
        "application/pdf",
    )
    anonymous = await world.anonymous.upload(
        UPLOAD,
        {"charterId": world.charter_id, "category": "JOB_SHEET", "name": "x"},
        PDF,
        "application/pdf",
    )
    assert [e["extensions"]["code"] for e in driver["errors"]] == ["UNAUTHORIZED_FIELD_OR_TYPE"]
    assert [e["extensions"]["code"] for e in anonymous["errors"]] == ["UNAUTHENTICATED"]
    # Each caller's own upload: a client adds a version to its company's document, a vendor
    # to its own bid.
    assert await new_version(world.client, own) == []
    assert await new_version(world.vendor, bid) == []
    assert await stored(sessions, documents_dir) == (before[0], before[1] + 2, before[2] + 2)


async def test_bad_files_and_bad_input_are_refused_and_nothing_is_stored(
    world: World, sessions, documents_dir
):
    before = await stored(sessions, documents_dir)
    yesterday = date.today() - timedelta(days=1)
    cases = [
        (EXE, "application/octet-stream", {}, ("file", "UNSUPPORTED_FILE_TYPE")),
        (XLSX, "application/octet-stream", {}, ("file", "UNSUPPORTED_FILE_TYPE")),
        (PNG, "application/pdf", {}, ("file", "UNSUPPORTED_FILE_TYPE")),
        (b"", "application/pdf", {}, ("file", "REQUIRED")),
        (PDF + b"\x00" * MAX_BYTES, "application/pdf", {}, ("file", "FILE_TOO_LARGE")),
        (PDF, "application/pdf", {"name": "   "}, ("name", "REQUIRED")),
        (PDF, "application/pdf", {"name": "n" * 201}, ("name", "TOO_LONG")),
        (PDF, "application/pdf", {"expires_on": yesterday}, ("expiresOn", "IN_THE_PAST")),
    ]
    for content, declared, extra, expected in cases:
        payload = await attach(
            world.staff, world.charter_id, "CONTRACT", content, declared, **extra
        )
        assert problems(payload) == [expected], (expected, payload)
        assert payload["document"] is None
    assert await stored(sessions, documents_dir) == before

    # Sensible office files pass: a PDF, pictures, and a Word document (a zip of Word parts).
    for content, declared, expected in (
        (DOCX, DOCX_TYPE, DOCX_TYPE),
        (DOCX, "application/octet-stream", DOCX_TYPE),
        (JPEG, "image/jpg", "image/jpeg"),
    ):
        payload = await attach(world.staff, world.charter_id, "CONTRACT", content, declared,
                               filename="../../etc/passwd.docx")  # fmt: skip
        assert problems(payload) == []
        version = payload["document"]["currentVersion"]
        assert version["contentType"] == expected
        assert version["filename"] == "passwd.docx"


# --- expiry ---------------------------------------------------------------------------------


async def test_staff_list_documents_expiring_within_n_days_soonest_first(world: World):
    today = date.today()
    soon = await attach(world.staff, world.charter_id, "CONTRACT", name="COI soon",
                        expires_on=today + timedelta(days=10))  # fmt: skip
    later = await attach(world.staff, world.charter_id, "CONTRACT", name="COI later",
                         expires_on=today + timedelta(days=45))  # fmt: skip
    await attach(world.staff, world.charter_id, "CONTRACT", name="Never expires")
    mine = {soon["document"]["id"], later["document"]["id"]}

    async def listed(days: int | None) -> list[str]:
        variables = {"days": days} if days is not None else {}
        edges = (await world.staff.read(EXPIRING, variables)).ok()["expiringCharterDocuments"]
        return [e["node"]["name"] for e in edges["edges"] if e["node"]["id"] in mine]

    assert await listed(None) == ["COI soon"]
    assert await listed(60) == ["COI soon", "COI later"]
    assert await listed(5) == []
    refused = await world.staff.read(EXPIRING, {"days": 400})
    assert refused.error_codes == ["BAD_USER_INPUT"]
    for outsider in (world.client, world.vendor, world.driver):
        assert (await outsider.read(EXPIRING, {})).error_codes == ["FORBIDDEN"]
