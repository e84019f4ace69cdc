"""The accounting reports: one module per report, each a query mixin and a CSV route."""

from __future__ import annotations

import strawberry

from subgraphs.finance.reports import ar_aging


@strawberry.type
class ReportQueries(ar_aging.ArAgingQueries):
    pass


routes = [*ar_aging.routes]
