"""Pricing's dataloaders: one statement per kind of row per request.

`QuoteByFactsLoader` is what makes `charters(first: 50) { quote { total } }`
one `_entities` batch here and a constant number of statements: every
charter of the batch is priced with one load of the price list.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from subgraphs.kit.loaders import ByParentIdLoader, SessionLoader
from subgraphs.kit.settings import get_settings
from subgraphs.pricing import models
from subgraphs.pricing.service import quotes
from subgraphs.pricing.service.quotes import CharterFacts, ShownQuote

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


async def current_price_list(session: AsyncSession) -> quotes.PriceList:
    settings = get_settings()
    return await quotes.price_list(session, settings.pricing_road_factor, settings.pricing_tax_rate)


class QuoteByFactsLoader(SessionLoader[CharterFacts, ShownQuote]):
    async def load_batch(
        self, session: AsyncSession, keys: Sequence[CharterFacts]
    ) -> list[ShownQuote]:
        async with session.begin():  # new calculations are stored: the quote shown is kept
            prices = await current_price_list(session)
            shown = await quotes.quote_many(session, keys, prices, datetime.now(UTC))
        return [shown[key.charter_id] for key in keys]


class ChangesByRuleIdLoader(ByParentIdLoader[models.RuleChange]):
    model = models.RuleChange
    parent_column = "rule_id"
    order_by = ("rule_id", "at", "id")


class RedemptionsByCodeLoader(ByParentIdLoader[models.PromoRedemption]):
    model = models.PromoRedemption
    parent_column = "promo_code_id"
    order_by = ("promo_code_id", "at", "id")


class AmenitiesByCharterLoader(ByParentIdLoader[models.CharterAmenity]):
    model = models.CharterAmenity
    parent_column = "charter_id"
    order_by = ("charter_id", "added_at", "id")
