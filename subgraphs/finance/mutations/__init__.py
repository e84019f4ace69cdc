"""Finance's `Mutation` root: one module per aggregate, each mutation one transaction."""

from __future__ import annotations

import strawberry

from subgraphs.finance.mutations.autopay import AutopayMutations
from subgraphs.finance.mutations.bills import BillMutations
from subgraphs.finance.mutations.configuration import ConfigurationMutations
from subgraphs.finance.mutations.invoices import InvoiceMutations
from subgraphs.finance.mutations.payment_methods import PaymentMethodMutations
from subgraphs.finance.mutations.payments import PaymentMutations
from subgraphs.finance.mutations.periods import InvoicePeriodMutations
from subgraphs.finance.mutations.plans import PlanMutations
from subgraphs.finance.mutations.refunds import RefundMutations
from subgraphs.finance.mutations.sync import SyncMutations


@strawberry.type
class Mutation(
    PaymentMutations,
    InvoiceMutations,
    InvoicePeriodMutations,
    BillMutations,
    ConfigurationMutations,
    PlanMutations,
    RefundMutations,
    PaymentMethodMutations,
    SyncMutations,
    AutopayMutations,
):
    pass
