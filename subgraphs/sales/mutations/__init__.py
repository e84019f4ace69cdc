"""Sales' `Mutation` root: one module per aggregate, each mutation one transaction."""

from __future__ import annotations

import strawberry

from subgraphs.sales.mutations.clients import ClientMutations
from subgraphs.sales.mutations.conversion import ConversionMutations
from subgraphs.sales.mutations.leads import LeadMutations
from subgraphs.sales.mutations.queue import QueueMutations


@strawberry.type
class Mutation(ClientMutations, LeadMutations, QueueMutations, ConversionMutations):
    pass
