"""Finance's `Query` root: one mixin per concern."""

from __future__ import annotations

import strawberry

from subgraphs.finance.queries.bills import BillQueries
from subgraphs.finance.queries.configuration import ConfigurationQueries
from subgraphs.finance.queries.payments import PaymentQueries
from subgraphs.finance.queries.revenue import RevenueQueries
from subgraphs.finance.queries.sync import SyncQueries
from subgraphs.finance.reports import ReportQueries


@strawberry.type
class Query(
    PaymentQueries,
    ReportQueries,
    BillQueries,
    ConfigurationQueries,
    SyncQueries,
    RevenueQueries,
):
    pass
