"""Finance's `Query` root: one mixin per concern."""

from __future__ import annotations

import strawberry

from subgraphs.finance.queries.payments import PaymentQueries
from subgraphs.finance.reports import ReportQueries


@strawberry.type
class Query(PaymentQueries, ReportQueries):
    pass
