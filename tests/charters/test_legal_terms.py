"""Legal terms with versions and e-signatures on charters (issue 14 §2).

Publishing and reading go through the charters subgraph over HTTP with
real tokens; `legal_terms.sign` (which the lead's `acceptQuote` calls) is
exercised directly against the database, then read back through the graph
and the signed-document download.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pypdf
import pytest
from sqlalchemy import func, select

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.charters.models import (
    AuditEntry,
    CharterSignature,
    LegalTermsAudit,
    LegalTermsVersion,
)
from subgraphs.charters.service import legal_terms
from subgraphs.charters.service.vendor_access import apply_access_event
from subgraphs.kit.errors import ServiceError
from tests.charters.test_charter_documents import vendor_account
from tests.support.charters_fixtures import apply_event, event_now
from tests.support.graphql_client import GraphQLClient

PUBLISH = """mutation($input: PublishLegalTermsInput!) { publishLegalTerms(input: $input) {
  terms { id kind version title text sha256 isCurrent publishedAt }
  userErrors { field code message } } }"""
CURRENT = "{ currentLegalTerms { id kind version title sha256 isCurrent } }"
BY_ID = "query($id: ID!) { legalTerms(id: $id) { id version text sha256 isCurrent } }"
SIGNATURES = """query($id: ID!) { charter(id: $id) { id signatures { totalCount edges { node {
  id termsKind termsSha256 typedName signer { id } signedAt ipAddress userAgent downloadPath
  terms { id version } } } } } }"""
LINK = "mutation($id: ID!) { createQuoteLink(id: $id) { token userErrors { code } } }"
BY_LINK = (
    "query($t: String!) { quoteByLink(token: $t) { reference legalTerms { id kind sha256 } } }"
)

#: Exact bytes matter: CRLF, trailing spaces, a non-ASCII letter, no final newline.
TERMS_TEXT = "1. Deposit.\r\nA deposit of 25% books the coach.  \n\n2. Café stops are extra."


async def publish(client: GraphQLClient, kind: str, text: str = TERMS_TEXT, title: str = "T&C"):
    payload = (await client(PUBLISH, {"input": {"kind": kind, "title": title, "text": text}})).ok()[
        "publishLegalTerms"
    ]
    return payload


async def count(sessions: Any, model: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def client_viewer(company: uuid.UUID) -> Viewer:
    return Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.CLIENT}), client_id=company)


async def sign(sessions: Any, charter_id: str, terms_id: str, **kwargs: Any) -> CharterSignature:
    values: dict[str, Any] = {
        "typed_name": "Pat Lee",
        "signer": None,
        "ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0 (Portal)",
    } | kwargs
    async with sessions() as session, session.begin():
        return await legal_terms.sign(session, uuid.UUID(charter_id), uuid.UUID(terms_id), **values)


async def refused(sessions: Any, charter_id: str, terms_id: str, **kwargs: Any) -> list[Any]:
    with pytest.raises(ServiceError) as caught:
        await sign(sessions, charter_id, terms_id, **kwargs)
    return [(p.field, p.code) for p in caught.value.problems]


# --- publishing -------------------------------------------------------------------------------


async def test_publishing_makes_a_new_current_version_and_keeps_the_text_exactly(
    staff, as_role, sessions
):
    first = await publish(staff, "TERMS_AND_CONDITIONS")
    contract = await publish(staff, "CONTRACT", "Contract text", "Contract")
    second = await publish(staff, "TERMS_AND_CONDITIONS", TERMS_TEXT + "\n3. New.", "T&C 2027")

    assert first["userErrors"] == second["userErrors"] == contract["userErrors"] == []
    v1, v2 = first["terms"], second["terms"]
    assert (v1["version"], v2["version"], contract["terms"]["version"]) == (1, 2, 1)
    assert v1["text"] == TERMS_TEXT
    assert v1["sha256"] == hashlib.sha256(TERMS_TEXT.encode("utf-8")).hexdigest()
    reader = await as_role("client")
    current = (await reader(CURRENT)).ok()["currentLegalTerms"]
    assert [(t["kind"], t["version"], t["id"]) for t in current] == [
        ("TERMS_AND_CONDITIONS", 2, v2["id"]),
        ("CONTRACT", 1, contract["terms"]["id"]),
    ]
    old = (await reader(BY_ID, {"id": v1["id"]})).ok()["legalTerms"]
    assert (old["isCurrent"], old["text"], old["sha256"]) == (False, TERMS_TEXT, v1["sha256"])
    assert (await reader(BY_ID, {"id": str(uuid.uuid4())})).error_codes == ["NOT_FOUND"]
    async with sessions() as session:
        audited = (
            await session.execute(
                select(LegalTermsAudit.terms_version_id, LegalTermsAudit.action).order_by(
                    LegalTermsAudit.at, LegalTermsAudit.action
                )
            )
        ).all()
    assert sorted((str(i), a) for i, a in audited) == sorted(
        [
            (v1["id"], "terms:publish"),
            (contract["terms"]["id"], "terms:publish"),
            (v1["id"], "terms:retire"),
            (v2["id"], "terms:publish"),
        ]
    )


async def test_bad_terms_are_refused_naming_the_field_and_change_nothing(staff, as_role, sessions):
    cases = [
        ({"title": "  "}, ("input.title", "REQUIRED")),
        ({"title": "t" * 201}, ("input.title", "TOO_LONG")),
        ({"text": " \n "}, ("input.text", "REQUIRED")),
    ]
    for change, expected in cases:
        values = {"kind": "WAIVER", "title": "Waiver", "text": "I accept the risks."} | change
        payload = (await staff(PUBLISH, {"input": values})).ok()["publishLegalTerms"]
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [expected]
        assert payload["terms"] is None
    agent = await as_role("sales_agent")
    forbidden = await agent(PUBLISH, {"input": {"kind": "WAIVER", "title": "W", "text": "x"}})
    assert forbidden.error_codes == ["FORBIDDEN"]
    assert await count(sessions, LegalTermsVersion) == 0
    assert await count(sessions, LegalTermsAudit) == 0


async def test_concurrent_publishers_leave_exactly_one_current_version(staff):
    payloads = await asyncio.gather(
        *(publish(staff, "WAIVER", f"Waiver {n}", f"Waiver {n}") for n in range(4))
    )

    assert all(p["userErrors"] == [] for p in payloads)
    assert sorted(p["terms"]["version"] for p in payloads) == [1, 2, 3, 4]
    current = (await staff(CURRENT)).ok()["currentLegalTerms"]
    assert [(t["kind"], t["version"]) for t in current] == [("WAIVER", 4)]


async def test_a_quote_link_holder_reads_the_current_terms(staff, bookable_charter):
    published = (await publish(staff, "TERMS_AND_CONDITIONS"))["terms"]
    charter = await bookable_charter()
    link = (await staff(LINK, {"id": charter["id"]})).ok()["createQuoteLink"]

    anonymous = (await staff(BY_LINK, {"t": link["token"]}, token="")).ok()["quoteByLink"]

    assert anonymous["legalTerms"] == [
        {"id": published["id"], "kind": "TERMS_AND_CONDITIONS", "sha256": published["sha256"]}
    ]
    assert (await staff(CURRENT, token="")).error_codes == ["UNAUTHENTICATED"]


# --- signing ----------------------------------------------------------------------------------


async def test_a_signature_records_who_what_when_and_where(staff, bookable_charter, sessions):
    company = uuid.uuid4()
    charter = await bookable_charter(clientId=str(company))
    terms = (await publish(staff, "TERMS_AND_CONDITIONS"))["terms"]
    signer = client_viewer(company)
    before = datetime.now(UTC)

    row = await sign(
        sessions,
        charter["id"],
        terms["id"],
        typed_name="  Pat   Lee ",
        signer=signer,
        expected_sha256=terms["sha256"].upper(),
    )

    assert (row.signer_id, row.typed_name, row.ip_address, row.user_agent) == (
        signer.user_id,
        "Pat Lee",
        "203.0.113.7",
        "Mozilla/5.0 (Portal)",
    )
    assert (str(row.terms_version_id), row.terms_kind, row.terms_sha256) == (
        terms["id"],
        "terms_and_conditions",
        hashlib.sha256(TERMS_TEXT.encode("utf-8")).hexdigest(),
    )
    assert before <= row.signed_at <= datetime.now(UTC)
    async with sessions() as session:
        audited = await session.scalar(
            select(AuditEntry.actor_id).where(
                AuditEntry.entity == "charter_signature", AuditEntry.entity_id == row.id
            )
        )
    assert audited == signer.user_id
    # A quote-link signer has no account yet.
    anonymous = await sign(sessions, charter["id"], terms["id"], signer=None)
    assert anonymous.signer_id is None


async def test_signing_refuses_outdated_terms_blank_names_and_unknown_charters(
    staff, bookable_charter, sessions
):
    charter = await bookable_charter()
    old = (await publish(staff, "CONTRACT", "Contract v1", "Contract"))["terms"]
    new = (await publish(staff, "CONTRACT", "Contract v2", "Contract"))["terms"]
    prefix = {"field_prefix": "acceptTerms."}

    assert await refused(sessions, charter["id"], old["id"], **prefix) == [
        ("acceptTerms.termsVersionId", "OUTDATED_TERMS")
    ]
    assert await refused(sessions, charter["id"], new["id"], typed_name=" \t ", **prefix) == [
        ("acceptTerms.typedName", "REQUIRED")
    ]
    assert await refused(sessions, str(uuid.uuid4()), new["id"]) == [("charterId", "NOT_FOUND")]
    assert await refused(sessions, charter["id"], str(uuid.uuid4())) == [
        ("termsVersionId", "NOT_FOUND")
    ]
    assert await refused(sessions, charter["id"], new["id"], expected_sha256=old["sha256"]) == [
        ("sha256", "TERMS_CHANGED")
    ]
    assert await count(sessions, CharterSignature) == 0
    async with sessions() as session:
        assert not await session.scalar(
            select(func.count()).where(AuditEntry.entity == "charter_signature")
        )


async def test_signatures_and_the_signed_document_are_the_clients_and_staffs(
    staff, bookable_charter, sessions, mint, charters_server, http_client
):
    company = uuid.uuid4()
    charter = await bookable_charter(clientId=str(company))
    terms = (await publish(staff, "TERMS_AND_CONDITIONS", title="Terms & Conditions"))["terms"]
    signature = await sign(sessions, charter["id"], terms["id"], signer=client_viewer(company))
    vendor_id = uuid.uuid4()
    vendor_user = await vendor_account(vendor_id)
    await apply_event(
        apply_access_event,
        event_now(
            {
                "charterId": charter["id"],
                # dated after whatever a vendors app in this process announces for the new
                # charter through the real pipeline (as test_charter_documents' world does)
                "asOf": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
                "vendors": [{"vendorId": str(vendor_id), "reasons": ["assignment"]}],
            }
        ),
    )

    async def reader(*roles: str, **token: Any) -> GraphQLClient:
        return GraphQLClient(charters_server.graphql_url, http_client, await mint(*roles, **token))

    client = await reader("client", client_id=company)
    read = (await client(SIGNATURES, {"id": charter["id"]})).ok()["charter"]["signatures"]
    assert read["totalCount"] == 1
    node = read["edges"][0]["node"]
    assert (node["typedName"], node["termsKind"], node["termsSha256"], node["ipAddress"]) == (
        "Pat Lee",
        "TERMS_AND_CONDITIONS",
        terms["sha256"],
        "203.0.113.7",
    )
    assert node["terms"] == {"id": terms["id"], "version": 1}
    assert (await staff(SIGNATURES, {"id": charter["id"]})).ok()["charter"]["signatures"] == read
    vendor = await reader("vendor", user_id=vendor_user)
    refused_read = await vendor(SIGNATURES, {"id": charter["id"]})
    assert refused_read.data["charter"]["signatures"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in refused_read.errors] == [
        (["charter", "signatures"], "FORBIDDEN")
    ]

    url = charters_server.base_url + node["downloadPath"]
    pdfs = []
    for token in (client.token, staff.token, await mint("accounting")):
        response = await http_client.get(url, headers={"authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        pdfs.append(response.content)
    assert pdfs[0] == pdfs[1] == pdfs[2]
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdfs[0])).pages)
    for expected in ("Terms & Conditions", "Café stops are extra.", "Signed by: Pat Lee",
                     "203.0.113.7", terms["sha256"], charter["reference"]):  # fmt: skip
        assert expected in text, expected
    outsiders = [
        vendor.token,
        await mint("client", client_id=uuid.uuid4()),
        await mint("driver"),
    ]
    for token in outsiders:
        response = await http_client.get(url, headers={"authorization": f"Bearer {token}"})
        assert response.status_code == 404
    assert (await http_client.get(url)).status_code == 401
    unknown = charters_server.base_url + f"/charter-documents/signed/{uuid.uuid4()}.pdf"
    response = await http_client.get(unknown, headers={"authorization": f"Bearer {staff.token}"})
    assert response.status_code == 404
    assert signature.id is not None
