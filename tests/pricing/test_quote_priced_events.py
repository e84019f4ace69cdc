"""Pricing announces an open quote's new price (`pricing.quote_priced`), for the client's quote mails."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from subgraphs.pricing.models import outbox
from subgraphs.pricing.service.quotes import QUOTE_PRICED
from tests.pricing.test_quotes import charter, quote_of, seed_rules
from tests.pricing.test_rules_api import UPDATE


async def _announced(sessions) -> list[dict]:
    async with sessions() as s:
        rows = await s.execute(
            select(outbox.c.payload).where(outbox.c.topic == QUOTE_PRICED).order_by(outbox.c.id)
        )
        return [r.payload for r in rows]


async def test_each_new_price_of_an_open_quote_is_announced_once(pricing_manager, sessions):
    ids = await seed_rules(pricing_manager)
    charter_id = uuid.uuid4()
    rep = charter(charter_id=charter_id)

    [first] = await quote_of(pricing_manager, rep)
    await quote_of(pricing_manager, rep)  # read again, unchanged: nothing new
    await pricing_manager(UPDATE, {"id": ids["Base rate"], "input": {"value": "360.00"}})
    [edited] = await quote_of(pricing_manager, rep)

    announced = await _announced(sessions)
    assert [(e["charterId"], e["total"]) for e in announced] == [
        (str(charter_id), first["total"]),
        (str(charter_id), edited["total"]),
    ]
    assert all(e["calculatedAt"] for e in announced)


async def test_a_booked_charters_quote_is_not_announced_as_priced(pricing_manager, sessions):
    await seed_rules(pricing_manager)

    await quote_of(pricing_manager, charter(status="BOOKED"))

    assert await _announced(sessions) == []
