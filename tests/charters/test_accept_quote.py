"""acceptQuote and acceptQuoteByLink (issue 14 §2) through the charters subgraph over HTTP.

Real tokens (identity's keys), a real database: a quote is booked and its
terms signed in one transaction, refusals name the field and write nothing,
only the quote's own client (or staff who may book it) accepts, and repeats
and races book once.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import func, select

from subgraphs.charters.models import AuditEntry, Charter, CharterSignature, outbox
from subgraphs.charters.service.acceptance import QUOTE_ACCEPTED_BY_LINK
from tests.charters.test_legal_terms import publish
from tests.support.charters_fixtures import CREATE_CHARTER, future_local, register_client

ACCEPT = """mutation($id: ID!, $rev: Int!, $terms: AcceptTermsInput!, $key: String) {
  acceptQuote(charterId: $id, revision: $rev, acceptTerms: $terms, idempotencyKey: $key) {
    charter { id status quoteRevision }
    signature { id typedName ipAddress userAgent termsSha256 signer { id } }
    userErrors { field code message } } }"""
BY_LINK = """mutation($token: String!, $email: String!, $terms: AcceptTermsInput!, $key: String) {
  acceptQuoteByLink(token: $token, email: $email, acceptTerms: $terms, idempotencyKey: $key) {
    reference status signedAt userErrors { field code message } } }"""
LINK = "mutation($id: ID!) { createQuoteLink(id: $id) { token userErrors { code } } }"
REVISE = (
    "mutation($id: ID!) { reviseQuote(id: $id) { charter { quoteRevision } userErrors { code } } }"
)
CANCEL = """mutation($id: ID!) { cancelCharter(id: $id, reason: "Client chose another date") {
  charter { status } userErrors { code } } }"""
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Portal/1.0"


async def _setup(staff: Any, bookable_charter: Any, mint: Any, **overrides: Any) -> dict[str, Any]:
    company = uuid.uuid4()
    charter = await bookable_charter(clientId=str(company), **overrides)
    terms = (await publish(staff, "TERMS_AND_CONDITIONS"))["terms"]
    user_id = uuid.uuid4()
    client = staff.as_user(await mint("client", user_id=user_id, client_id=company))
    return {
        "company": company,
        "charter": charter,
        "terms": terms,
        "client": client,
        "user_id": user_id,
    }


def _terms(terms: dict[str, Any], **change: Any) -> dict[str, Any]:
    return {"termsVersionId": terms["id"], "typedName": "Pat Lee", "sha256": terms["sha256"]} | (
        change
    )


async def _accept(client: Any, s: dict[str, Any], **change: Any) -> dict[str, Any]:
    variables = {
        "id": s["charter"]["id"],
        "rev": 1,
        "terms": _terms(s["terms"]),
        "key": None,
    } | change
    response = await client(ACCEPT, variables, headers={"user-agent": BROWSER})
    return response.ok()["acceptQuote"]  # type: ignore[no-any-return]


async def _state(sessions: Any, charter_id: str) -> tuple[str, int, int]:
    """The charter's status, its signatures, and its booking audit entries."""
    key = uuid.UUID(charter_id)
    async with sessions() as session:
        status = await session.scalar(select(Charter.status).where(Charter.id == key))
        signatures = await session.scalar(
            select(func.count())
            .select_from(CharterSignature)
            .where(CharterSignature.charter_id == key)
        )
        bookings = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.charter_id == key, AuditEntry.action == "status:booked")
        )
    return str(status), int(signatures or 0), int(bookings or 0)


async def _events(sessions: Any, topic: str) -> list[dict[str, Any]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(outbox.c.payload).where(outbox.c.topic == topic).order_by(outbox.c.id)
        )
        return list(rows)


# --- the client accepts its own quote ------------------------------------------------------------


async def test_the_client_accepts_its_quote_booking_it_and_signing_the_terms(
    staff, bookable_charter, mint, sessions
):
    s = await _setup(staff, bookable_charter, mint)

    payload = await _accept(s["client"], s, terms=_terms(s["terms"], typedName="  Pat   Lee "))

    assert payload["userErrors"] == []
    assert payload["charter"]["status"] == "BOOKED"
    signature = payload["signature"]
    assert (signature["typedName"], signature["userAgent"], signature["termsSha256"]) == (
        "Pat Lee",
        BROWSER,
        s["terms"]["sha256"],
    )
    assert signature["ipAddress"] == "127.0.0.1"
    assert signature["signer"]["id"] == str(s["user_id"])
    assert await _state(sessions, s["charter"]["id"]) == ("booked", 1, 1)
    async with sessions() as session:
        actor = await session.scalar(
            select(AuditEntry.actor_id).where(
                AuditEntry.charter_id == uuid.UUID(s["charter"]["id"]),
                AuditEntry.action == "status:booked",
            )
        )
    assert actor == s["user_id"]
    booked = [
        e
        for e in await _events(sessions, "charters.charter_changed")
        if e.get("charterId") == s["charter"]["id"] and e.get("previousStatus") == "quote"
    ]
    assert [e["status"] for e in booked] == ["booked"]


async def test_staff_who_may_book_accept_for_the_client(staff, bookable_charter, mint, sessions):
    s = await _setup(staff, bookable_charter, mint)

    payload = await _accept(staff, s)

    assert payload["userErrors"] == []
    assert payload["charter"]["status"] == "BOOKED"
    assert await _state(sessions, s["charter"]["id"]) == ("booked", 1, 1)


# --- refusals: a user error naming the field, nothing written -----------------------------------


async def test_refusals_name_the_field_and_write_nothing(staff, bookable_charter, mint, sessions):
    s = await _setup(staff, bookable_charter, mint)
    contract = (await publish(staff, "CONTRACT", "Contract text", "Contract"))["terms"]
    cases: list[tuple[dict[str, Any], tuple[str, str]]] = [
        ({"rev": 2}, ("revision", "QUOTE_CHANGED")),
        ({"terms": _terms(s["terms"], typedName="   ")}, ("acceptTerms.typedName", "REQUIRED")),
        ({"terms": _terms(s["terms"], sha256="0" * 64)}, ("acceptTerms.sha256", "TERMS_CHANGED")),
        (
            {"terms": _terms(s["terms"], termsVersionId=str(uuid.uuid4()))},
            ("acceptTerms.termsVersionId", "NOT_FOUND"),
        ),
        (
            {"terms": _terms(contract)},
            ("acceptTerms.termsVersionId", "INVALID"),
        ),
    ]
    for change, expected in cases:
        payload = await _accept(s["client"], s, **change)
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [expected], change
        assert payload["charter"] is None
    # Terms republished since the client read them: the old version is outdated.
    await publish(staff, "TERMS_AND_CONDITIONS", "New terms", "T&C 2")
    outdated = await _accept(s["client"], s)
    assert [(e["field"], e["code"]) for e in outdated["userErrors"]] == [
        ("acceptTerms.termsVersionId", "OUTDATED_TERMS")
    ]
    assert await _state(sessions, s["charter"]["id"]) == ("quote", 0, 0)


async def test_a_revised_quote_is_refused_until_the_new_revision_is_accepted(
    staff, bookable_charter, mint, sessions
):
    s = await _setup(staff, bookable_charter, mint)
    revised = (await staff(REVISE, {"id": s["charter"]["id"]})).ok()["reviseQuote"]
    assert revised["charter"]["quoteRevision"] == 2

    stale = await _accept(s["client"], s, rev=1)
    fresh = await _accept(s["client"], s, rev=2)

    assert [(e["field"], e["code"]) for e in stale["userErrors"]] == [("revision", "QUOTE_CHANGED")]
    assert "changed since you viewed it" in stale["userErrors"][0]["message"]
    assert fresh["userErrors"] == []
    assert fresh["charter"]["status"] == "BOOKED"


async def test_a_cancelled_or_booked_quote_cannot_be_accepted(
    staff, bookable_charter, mint, sessions
):
    s = await _setup(staff, bookable_charter, mint)
    assert (await staff(CANCEL, {"id": s["charter"]["id"]})).ok()["cancelCharter"][
        "userErrors"
    ] == []

    cancelled = await _accept(s["client"], s)

    assert [(e["field"], e["code"]) for e in cancelled["userErrors"]] == [
        ("charterId", "INVALID_TRANSITION")
    ]
    assert "cancelled" in cancelled["userErrors"][0]["message"]
    assert await _state(sessions, s["charter"]["id"]) == ("cancelled", 0, 0)


async def test_a_quote_without_a_price_cannot_be_accepted(
    staff, bookable_charter, vehicle_type, mint, sessions
):
    company = uuid.uuid4()
    await register_client(staff, str(company))
    vtype = await vehicle_type()
    created = (
        await staff(
            CREATE_CHARTER,
            {
                "input": {
                    "clientId": str(company),
                    "tripType": "ONE_WAY",
                    "passengerCount": 20,
                    "pickupLocal": future_local(20),
                    "pickupTimeZone": "America/Chicago",
                    "stops": [
                        {"type": "PICKUP", "address": "1 Main St"},
                        {"type": "DROPOFF", "address": "2 Lake Rd"},
                    ],
                    "vehicles": [{"vehicleTypeId": vtype["id"], "cost": "0.00"}],
                }
            },
        )
    ).ok()["createCharter"]
    assert created["userErrors"] == []
    terms = (await publish(staff, "TERMS_AND_CONDITIONS"))["terms"]
    client = staff.as_user(await mint("client", client_id=company))
    s = {"charter": created["charter"], "terms": terms}

    payload = await _accept(client, s)

    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        ("charterId", "QUOTE_NOT_PRICED")
    ]
    assert await _state(sessions, created["charter"]["id"]) == ("quote", 0, 0)


# --- who may accept --------------------------------------------------------------------------------


async def test_only_the_quotes_own_client_or_booking_staff_may_accept(
    staff, bookable_charter, mint, as_role, known_agent, sessions
):
    s = await _setup(staff, bookable_charter, mint)
    other_client = staff.as_user(await mint("client", client_id=uuid.uuid4()))
    vendor = await as_role("vendor")
    driver = await as_role("driver")
    other_agent = await as_role("sales_agent")
    variables = {"id": s["charter"]["id"], "rev": 1, "terms": _terms(s["terms"])}

    assert (await other_client(ACCEPT, variables)).error_codes == ["NOT_FOUND"]
    unknown = {**variables, "id": str(uuid.uuid4())}
    assert (await s["client"](ACCEPT, unknown)).error_codes == ["NOT_FOUND"]
    assert (await vendor(ACCEPT, variables)).error_codes == ["FORBIDDEN"]
    assert (await driver(ACCEPT, variables)).error_codes == ["FORBIDDEN"]
    # A sales agent books only its own quotes (`CHARTER_MOVES["booked"]`).
    assert (await other_agent(ACCEPT, variables)).error_codes == ["FORBIDDEN"]
    assert (await staff.as_user(None)(ACCEPT, variables)).error_codes == ["UNAUTHENTICATED"]
    assert await _state(sessions, s["charter"]["id"]) == ("quote", 0, 0)

    agent_id = uuid.uuid4()
    owned = await _setup(staff, bookable_charter, mint, salesAgentId=str(agent_id))
    own_agent = staff.as_user(await mint("sales_agent", user_id=agent_id))
    assert (await _accept(own_agent, owned))["charter"]["status"] == "BOOKED"


# --- idempotency and races ----------------------------------------------------------------------


async def test_the_same_idempotency_key_answers_the_first_acceptance(
    staff, bookable_charter, mint, sessions
):
    s = await _setup(staff, bookable_charter, mint)

    first = await _accept(s["client"], s, key="accept-1")
    again = await _accept(s["client"], s, key="accept-1")

    assert first["userErrors"] == again["userErrors"] == []
    assert again["charter"] == first["charter"]
    assert again["signature"]["id"] == first["signature"]["id"]
    assert await _state(sessions, s["charter"]["id"]) == ("booked", 1, 1)
    other = await _accept(s["client"], s, key="accept-1", terms=_terms(s["terms"], typedName="X"))
    assert [(e["field"], e["code"]) for e in other["userErrors"]] == [
        ("idempotencyKey", "CONFLICT")
    ]


async def test_concurrent_repeats_with_one_key_book_once(staff, bookable_charter, mint, sessions):
    s = await _setup(staff, bookable_charter, mint)

    payloads = await asyncio.gather(*(_accept(s["client"], s, key="same-key") for _ in range(4)))

    assert all(p["userErrors"] == [] for p in payloads)
    assert {p["signature"]["id"] for p in payloads} == {payloads[0]["signature"]["id"]}
    assert await _state(sessions, s["charter"]["id"]) == ("booked", 1, 1)


async def test_two_concurrent_acceptances_book_once_and_the_other_is_told(
    staff, bookable_charter, mint, sessions
):
    s = await _setup(staff, bookable_charter, mint)

    payloads = await asyncio.gather(
        _accept(s["client"], s, key="tab-1"), _accept(s["client"], s, key="tab-2")
    )

    booked = [p for p in payloads if not p["userErrors"]]
    refused = [p for p in payloads if p["userErrors"]]
    assert len(booked) == len(refused) == 1
    assert [(e["field"], e["code"]) for e in refused[0]["userErrors"]] == [
        ("charterId", "INVALID_TRANSITION")
    ]
    assert "already accepted" in refused[0]["userErrors"][0]["message"]
    assert await _state(sessions, s["charter"]["id"]) == ("booked", 1, 1)


# --- through the quote link ---------------------------------------------------------------------


async def _link(staff: Any, charter_id: str) -> str:
    payload = (await staff(LINK, {"id": charter_id})).ok()["createQuoteLink"]
    assert payload["userErrors"] == []
    return str(payload["token"])


async def _by_link(anonymous: Any, token: str, terms: dict[str, Any], **change: Any) -> Any:
    variables = {"token": token, "email": "New.Person@Example.com", "terms": terms} | change
    response = await anonymous(BY_LINK, variables, headers={"user-agent": BROWSER})
    return response.ok()["acceptQuoteByLink"]


async def test_a_link_holder_accepts_without_an_account_and_identity_is_asked_for_one(
    staff, bookable_charter, mint, sessions
):
    s = await _setup(staff, bookable_charter, mint)
    token = await _link(staff, s["charter"]["id"])
    anonymous = staff.as_user(None)

    payload = await _by_link(anonymous, token, _terms(s["terms"]), key="link-1")
    again = await _by_link(anonymous, token, _terms(s["terms"]), key="link-1")

    assert payload["userErrors"] == []
    assert (payload["reference"], payload["status"]) == (s["charter"]["reference"], "BOOKED")
    assert again == payload
    assert await _state(sessions, s["charter"]["id"]) == ("booked", 1, 1)
    async with sessions() as session:
        signature = await session.scalar(
            select(CharterSignature).where(
                CharterSignature.charter_id == uuid.UUID(s["charter"]["id"])
            )
        )
    assert signature is not None
    assert (signature.signer_id, signature.user_agent, signature.ip_address) == (
        None,
        BROWSER,
        "127.0.0.1",
    )
    assert await _events(sessions, QUOTE_ACCEPTED_BY_LINK) == [
        {
            "charterId": s["charter"]["id"],
            "clientId": str(s["company"]),
            "email": "new.person@example.com",
            "name": "Pat Lee",
            "signatureId": str(signature.id),
        }
    ]
    # The link ended with the open quote: a second acceptance is told so.
    late = await _by_link(anonymous, token, _terms(s["terms"]))
    assert [(e["field"], e["code"]) for e in late["userErrors"]] == [
        ("token", "INVALID_TRANSITION")
    ]


async def test_a_bad_link_or_email_is_refused_and_writes_nothing(
    staff, bookable_charter, mint, sessions
):
    s = await _setup(staff, bookable_charter, mint)
    token = await _link(staff, s["charter"]["id"])
    anonymous = staff.as_user(None)
    terms = _terms(s["terms"])

    forged = await _by_link(anonymous, token[:-4] + "AAAA", terms)
    bad_email = await _by_link(anonymous, token, terms, email="not-an-address")
    (await staff(REVISE, {"id": s["charter"]["id"]})).ok()
    revised = await _by_link(anonymous, token, terms)

    assert [(e["field"], e["code"]) for e in forged["userErrors"]] == [("token", "INVALID_TOKEN")]
    assert [(e["field"], e["code"]) for e in bad_email["userErrors"]] == [("email", "INVALID")]
    assert [(e["field"], e["code"]) for e in revised["userErrors"]] == [("token", "QUOTE_CHANGED")]
    assert await _state(sessions, s["charter"]["id"]) == ("quote", 0, 0)
    assert await _events(sessions, QUOTE_ACCEPTED_BY_LINK) == []
