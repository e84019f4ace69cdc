"""Pricing's `Mutation` root: one module per aggregate, each mutation one transaction."""

from __future__ import annotations

import strawberry

from subgraphs.pricing.mutations.catalogue import CatalogueMutations
from subgraphs.pricing.mutations.charters import CharterQuoteMutations
from subgraphs.pricing.mutations.promos import PromoMutations
from subgraphs.pricing.mutations.rules import RuleMutations


@strawberry.type
class Mutation(RuleMutations, PromoMutations, CatalogueMutations, CharterQuoteMutations):
    pass
