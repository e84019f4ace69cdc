"""Finance's `Mutation` root: one module per aggregate, each mutation one transaction."""

from __future__ import annotations

import strawberry

from subgraphs.finance.mutations.invoices import InvoiceMutations
from subgraphs.finance.mutations.payments import PaymentMutations


@strawberry.type
class Mutation(PaymentMutations, InvoiceMutations):
    pass
