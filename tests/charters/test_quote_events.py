"""Charters announces what notifications tells clients: a quote sent, a quote revised (issue 14 §1)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from subgraphs.charters.models import outbox
from subgraphs.charters.service.events import CHARTER_CHANGED, QUOTE_SENT
from tests.charters.ops import book

REVISE = """mutation($id: ID!) { reviseQuote(id: $id) { charter { id } userErrors { code } } }"""
LINK = """mutation($id: ID!) { createQuoteLink(id: $id) { token expiresAt userErrors { code } } }"""


async def _events(sessions: Any, topic: str) -> list[dict[str, Any]]:
    async with sessions() as s:
        rows = await s.execute(
            select(outbox.c.payload).where(outbox.c.topic == topic).order_by(outbox.c.id)
        )
        return [r.payload for r in rows]


async def test_a_quote_link_made_is_announced_as_the_quote_sent(staff, bookable_charter, sessions):
    charter = await bookable_charter()

    link = (await staff(LINK, {"id": charter["id"]})).ok()["createQuoteLink"]

    [sent] = await _events(sessions, QUOTE_SENT)
    assert sent["charterId"] == charter["id"]
    assert sent["reference"] == charter["reference"]
    assert sent["revision"] == 1
    # no portal configured in tests: the token alone is the link
    assert sent["link"] == link["token"]
    assert sent["expiresAt"]
    assert sent["clientId"]


async def test_a_revision_is_announced_with_its_number_and_the_pickup_zone(
    staff, bookable_charter, sessions
):
    charter = await bookable_charter()

    (await staff(REVISE, {"id": charter["id"]})).ok()

    last = (await _events(sessions, CHARTER_CHANGED))[-1]
    assert last["charterId"] == charter["id"]
    assert last["changes"] == ["quote_revision"]
    assert last["quoteRevision"] == 2
    assert last["pickupTimeZone"]


async def test_a_refused_link_announces_nothing(staff, bookable_charter, sessions):
    charter = await bookable_charter()
    await book(staff, charter["id"])

    payload = (await staff(LINK, {"id": charter["id"]})).ok()["createQuoteLink"]

    assert payload["userErrors"]
    assert await _events(sessions, QUOTE_SENT) == []
