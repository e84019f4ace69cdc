"""Security review (issue 8), finding 1 and the quote-link "Also" item.

Quote links are signed with a configured secret (no default), name the
revision they were made for, and show only an open quote at that revision.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid

from subgraphs.charters.app import create_app
from tests.charters.ops import book, codes
from tests.support.forged_tokens import b64url, b64url_json
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import serve

#: The default secret the review found live (finding 1).
OLD_DEFAULT_SECRET = "embedded-quote-link-secret-change-me"

LINK = """mutation($id: ID!) { createQuoteLink(id: $id) {
  token expiresAt userErrors { field code message } } }"""
BY_LINK = """query($token: String!) { quoteByLink(token: $token) {
  reference revision status passengerCount total stops { address } } }"""
REVISE = """mutation($id: ID!) { reviseQuote(id: $id) {
  charter { id quoteRevision } userErrors { field code message } } }"""


def _forged(charter_id: str, secret: str, revision: int = 1) -> str:
    """An HS256 quote-link token signed with `secret` (by hand: PyJWT refuses an empty key)."""
    claims = {
        "purpose": "quote-link",
        "charter": charter_id,
        "revision": revision,
        "exp": int(time.time()) + 3600,
    }
    signing_input = f"{b64url_json({'alg': 'HS256', 'typ': 'JWT'})}.{b64url_json(claims)}"
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


async def _link(client: GraphQLClient, charter_id: str) -> str:
    payload = (await client(LINK, {"id": charter_id})).ok()["createQuoteLink"]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload["token"]  # type: ignore[no-any-return]


def _refused(response) -> bool:
    return response.data is None and response.error_codes == ["BAD_USER_INPUT"]


async def test_finding_1_a_token_forged_with_the_old_default_secret_is_refused(
    staff, bookable_charter
):
    quote = await bookable_charter()
    booked = await bookable_charter()
    await book(staff, booked["id"])

    forged_quote = await staff(
        BY_LINK, {"token": _forged(quote["id"], OLD_DEFAULT_SECRET)}, token=""
    )
    forged_booked = await staff(
        BY_LINK, {"token": _forged(booked["id"], OLD_DEFAULT_SECRET)}, token=""
    )

    assert _refused(forged_quote), forged_quote.body
    assert _refused(forged_booked), forged_booked.body


async def test_finding_1_a_link_made_before_a_revision_stops_working_after_it(
    staff, bookable_charter
):
    quote = await bookable_charter(passengers=40)
    old_link = await _link(staff, quote["id"])
    before = await staff(BY_LINK, {"token": old_link}, token="")

    revised = (await staff(REVISE, {"id": quote["id"]})).ok()["reviseQuote"]
    after = await staff(BY_LINK, {"token": old_link}, token="")
    new_link = await _link(staff, quote["id"])
    current = await staff(BY_LINK, {"token": new_link}, token="")

    assert before.ok()["quoteByLink"]["revision"] == 1
    assert revised["charter"]["quoteRevision"] == 2
    assert _refused(after), after.body
    assert current.ok()["quoteByLink"]["revision"] == 2


async def test_finding_1_a_link_stops_working_once_the_charter_is_booked(staff, bookable_charter):
    quote = await bookable_charter()
    link = await _link(staff, quote["id"])
    assert (await staff(BY_LINK, {"token": link}, token="")).ok()["quoteByLink"][
        "status"
    ] == "QUOTE"

    await book(staff, quote["id"])
    read = await staff(BY_LINK, {"token": link}, token="")
    again = (await staff(LINK, {"id": quote["id"]})).ok()["createQuoteLink"]

    assert _refused(read), read.body
    assert again["token"] is None
    assert codes(again) == [("id", "INVALID_TRANSITION")]


async def test_finding_1_without_a_secret_quote_links_are_turned_off(
    subgraph_settings, http_client, mint, bookable_charter
):
    quote = await bookable_charter()
    unset = subgraph_settings.model_copy(update={"quote_link_secret": ""})

    async with serve(create_app(unset)) as server:
        manager = GraphQLClient(server.graphql_url, http_client, await mint("manager"))
        created = (await manager(LINK, {"id": quote["id"]})).ok()["createQuoteLink"]
        empty_key = await manager(BY_LINK, {"token": _forged(quote["id"], "")}, token="")
        old_key = await manager(
            BY_LINK, {"token": _forged(quote["id"], OLD_DEFAULT_SECRET)}, token=""
        )

    assert created["token"] is None
    assert codes(created) == [("id", "QUOTE_LINKS_DISABLED")]
    assert _refused(empty_key), empty_key.body
    assert _refused(old_key), old_key.body


async def test_finding_also_a_sales_agent_cannot_link_another_agents_quote(
    as_role, bookable_charter, known_agent
):
    owner_id = await known_agent()
    quote = await bookable_charter(salesAgentId=owner_id)
    owner = await as_role("sales_agent", user_id=uuid.UUID(owner_id))
    other = await as_role("sales_agent")

    refused = (await other(LINK, {"id": quote["id"]})).ok()["createQuoteLink"]
    allowed = (await owner(LINK, {"id": quote["id"]})).ok()["createQuoteLink"]

    assert refused["token"] is None
    assert codes(refused) == [(None, "FORBIDDEN")]
    assert allowed["userErrors"] == []
    assert allowed["token"]
