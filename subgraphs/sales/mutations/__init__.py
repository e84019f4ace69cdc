"""Sales' `Mutation` root: one module per aggregate, each mutation one transaction."""

from __future__ import annotations

import strawberry

from subgraphs.sales.mutations.clients import ClientMutations
from subgraphs.sales.mutations.leads import LeadMutations


@strawberry.type
class Mutation(ClientMutations, LeadMutations):
    pass
