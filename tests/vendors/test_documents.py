"""Compliance documents: multipart upload, checks that store nothing, scoped download."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from subgraphs.vendors.models import Document, VendorAudit
from tests.support.graphql_client import GraphQLClient
from tests.support.vendors_facts import vendor_user

UPLOAD = """
mutation($vendorId: ID!, $file: Upload!) {
  uploadVendorDocument(vendorId: $vendorId, file: $file) {
    document { id filename contentType sizeBytes sha256 downloadPath }
    userErrors { field code message }
  }
}"""
ADD_CERT = """
mutation($vendorId: ID!, $input: CertificationInput!) {
  addCertification(vendorId: $vendorId, input: $input) {
    certification { id document { id filename } } userErrors { field code message }
  }
}"""

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
MAX = 10 * 1024 * 1024


async def upload(
    client: GraphQLClient,
    vendor_id: str,
    filename: str,
    content: bytes,
    content_type: str,
) -> dict[str, Any]:
    """A real GraphQL multipart request (operations, map, file part)."""
    operations = {"query": UPLOAD, "variables": {"vendorId": vendor_id, "file": None}}
    headers = {"authorization": f"Bearer {client.token}"} if client.token else {}
    response = await client.http.post(
        client.url,
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (filename, content, content_type)},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]["uploadVendorDocument"]  # type: ignore[no-any-return]


async def stored(sessions: Any, documents_dir: Path) -> tuple[int, int]:
    """(document rows, stored files)."""
    async with sessions() as session:
        rows = await session.scalar(select(func.count()).select_from(Document))
    files = await asyncio.to_thread(lambda: [p for p in documents_dir.rglob("*") if p.is_file()])
    return int(rows or 0), len(files)


def download_url(client: GraphQLClient, document_id: str) -> str:
    return client.url.removesuffix("/graphql") + f"/documents/{document_id}"


async def get(http: httpx.AsyncClient, url: str, token: str | None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await http.get(url, headers=headers)


async def test_a_vendor_uploads_a_pdf_and_staff_and_the_vendor_download_it(
    make_vendor, vendors_staff, vendors_as, vendors_settings, sessions
):
    vendor = await make_vendor("Paper Trail Coaches")
    before = await stored(sessions, vendors_settings.documents_path)
    portal, user_id = await vendor_user(vendors_staff, vendors_as, vendor["id"])

    result = await upload(portal, vendor["id"], "insurance-2026.pdf", PDF, "application/pdf")
    document = result["document"]
    cert = (
        await portal(
            ADD_CERT,
            {
                "vendorId": vendor["id"],
                "input": {
                    "type": "INSURANCE",
                    "number": "COI-77",
                    "issuedOn": "2026-01-01",
                    "expiresOn": "2027-01-01",
                    "documentId": document["id"],
                },
            },
        )
    ).ok()["addCertification"]
    by_vendor = await get(portal.http, download_url(portal, document["id"]), portal.token)
    by_staff = await get(portal.http, download_url(portal, document["id"]), vendors_staff.token)

    assert result["userErrors"] == []
    assert document["filename"] == "insurance-2026.pdf"
    assert document["contentType"] == "application/pdf"
    assert document["sizeBytes"] == len(PDF)
    assert document["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert document["downloadPath"] == f"/documents/{document['id']}"
    assert cert["userErrors"] == []
    assert cert["certification"]["document"] == {
        "id": document["id"],
        "filename": "insurance-2026.pdf",
    }
    for response in (by_vendor, by_staff):
        assert response.status_code == 200
        assert response.content == PDF
        assert response.headers["content-type"] == "application/pdf"
        assert "attachment" in response.headers["content-disposition"]
    assert await stored(sessions, vendors_settings.documents_path) == (1, before[1] + 1)
    async with sessions() as session:
        audit = (
            await session.execute(
                select(VendorAudit.action, VendorAudit.actor_id).where(
                    VendorAudit.entity == "document"
                )
            )
        ).all()
    assert audit == [("upload", user_id)]


async def test_staff_upload_a_png_declared_as_octet_stream(make_vendor, vendors_staff):
    vendor = await make_vendor()

    result = await upload(vendors_staff, vendor["id"], "dot.png", PNG, "application/octet-stream")

    assert result["userErrors"] == []
    assert result["document"]["contentType"] == "image/png"


async def test_refused_files_store_nothing(make_vendor, vendors_staff, vendors_settings, sessions):
    vendor = await make_vendor()
    before = await stored(sessions, vendors_settings.documents_path)

    renamed_exe = await upload(vendors_staff, vendor["id"], "coi.pdf", EXE, "application/pdf")
    too_large = await upload(
        vendors_staff, vendor["id"], "big.pdf", PDF + b"0" * (MAX + 1 - len(PDF)), "application/pdf"
    )
    mislabelled = await upload(vendors_staff, vendor["id"], "scan.jpg", PNG, "image/jpeg")
    empty = await upload(vendors_staff, vendor["id"], "empty.pdf", b"", "application/pdf")
    at_limit = await upload(
        vendors_staff, vendor["id"], "limit.pdf", PDF + b"0" * (MAX - len(PDF)), "application/pdf"
    )

    assert renamed_exe["document"] is None
    assert [(e["field"], e["code"]) for e in renamed_exe["userErrors"]] == [
        ("file", "UNSUPPORTED_FILE_TYPE")
    ]
    assert too_large["document"] is None
    assert [(e["field"], e["code"]) for e in too_large["userErrors"]] == [
        ("file", "FILE_TOO_LARGE")
    ]
    assert "10 MB" in too_large["userErrors"][0]["message"]
    assert [e["code"] for e in mislabelled["userErrors"]] == ["UNSUPPORTED_FILE_TYPE"]
    assert [e["code"] for e in empty["userErrors"]] == ["REQUIRED"]
    # Only the file of exactly 10 MB was stored: one row, one file.
    assert at_limit["userErrors"] == []
    assert await stored(sessions, vendors_settings.documents_path) == (
        before[0] + 1,
        before[1] + 1,
    )


async def test_another_vendor_can_neither_upload_for_nor_download_a_vendors_document(
    make_vendor, vendors_staff, vendors_as, vendors_settings, sessions
):
    owner = await make_vendor("Owner Lines")
    other = await make_vendor("Other Lines")
    other_portal, _ = await vendor_user(vendors_staff, vendors_as, other["id"])
    before = await stored(sessions, vendors_settings.documents_path)
    document = (await upload(vendors_staff, owner["id"], "mc.pdf", PDF, "application/pdf"))[
        "document"
    ]
    client_user = await vendors_as("client")
    url = download_url(vendors_staff, document["id"])

    foreign_upload = await upload(other_portal, owner["id"], "x.pdf", PDF, "application/pdf")
    by_other_vendor = await get(vendors_staff.http, url, other_portal.token)
    by_client = await get(vendors_staff.http, url, client_user.token)
    anonymous = await get(vendors_staff.http, url, None)
    forged = await get(vendors_staff.http, url, "not-a-token")
    unknown = await get(
        vendors_staff.http,
        download_url(vendors_staff, "00000000-0000-0000-0000-000000000000"),
        vendors_staff.token,
    )

    assert [e["code"] for e in foreign_upload["userErrors"]] == ["FORBIDDEN"]
    assert by_other_vendor.status_code == 404
    assert PDF not in by_other_vendor.content
    assert by_client.status_code == 404
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert forged.status_code == 401
    assert unknown.status_code == 404
    assert await stored(sessions, vendors_settings.documents_path) == (1, before[1] + 1)


async def test_anonymous_upload_is_unauthenticated(make_vendor, vendors_staff, sessions):
    vendor = await make_vendor()
    anonymous = vendors_staff.as_user(None)
    operations = {"query": UPLOAD, "variables": {"vendorId": vendor["id"], "file": None}}

    response = await anonymous.http.post(
        anonymous.url,
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": ("a.pdf", PDF, "application/pdf")},
    )

    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["UNAUTHENTICATED"]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Document)) == 0


VENDOR_DOCUMENTS = """
query($id: ID!) {
  vendor(id: $id) { name documents { totalCount edges { node { id filename sha256 } } } }
}"""


def listed(vendor: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in vendor["documents"]["edges"]]


async def test_vendor_documents_are_listed_only_to_staff_and_the_vendor(
    make_vendor, vendors_staff, vendors_as
):
    owner = await make_vendor("Listed Lines")
    other = await make_vendor("Peeking Lines")
    owner_portal, _ = await vendor_user(vendors_staff, vendors_as, owner["id"])
    other_portal, _ = await vendor_user(vendors_staff, vendors_as, other["id"])
    first = (await upload(owner_portal, owner["id"], "dot.pdf", PDF, "application/pdf"))["document"]
    second = (await upload(vendors_staff, owner["id"], "mc.png", PNG, "image/png"))["document"]

    by_owner = (await owner_portal(VENDOR_DOCUMENTS, {"id": owner["id"]})).ok()["vendor"]
    by_staff = (await vendors_staff(VENDOR_DOCUMENTS, {"id": owner["id"]})).ok()["vendor"]
    by_other = await other_portal(VENDOR_DOCUMENTS, {"id": owner["id"]})
    others_own = (await other_portal(VENDOR_DOCUMENTS, {"id": other["id"]})).ok()["vendor"]

    expected = [  # newest first
        {"id": second["id"], "filename": "mc.png", "sha256": hashlib.sha256(PNG).hexdigest()},
        {"id": first["id"], "filename": "dot.pdf", "sha256": hashlib.sha256(PDF).hexdigest()},
    ]
    assert listed(by_owner) == expected
    assert listed(by_staff) == expected
    assert by_owner["documents"]["totalCount"] == 2
    assert by_other.data is None or by_other.data.get("vendor") is None
    assert "NOT_FOUND" in by_other.error_codes
    assert listed(others_own) == []
