"""The accounting reports: one module per report, each a query mixin and a CSV route."""

from __future__ import annotations

import strawberry

from subgraphs.finance.reports import (
    ap_aging,
    ar_aging,
    cancellations,
    charter_payment_status,
    check_log,
    due_dates,
    outstanding_receivables,
    trips_by_agent,
    unearned_revenue,
    vendor_payables,
    zero_balance,
)


@strawberry.type
class ReportQueries(
    ar_aging.ArAgingQueries,
    ap_aging.ApAgingQueries,
    vendor_payables.VendorPayablesQueries,
    outstanding_receivables.OutstandingReceivablesQueries,
    charter_payment_status.CharterPaymentStatusQueries,
    zero_balance.ZeroBalanceQueries,
    unearned_revenue.UnearnedRevenueQueries,
    check_log.CheckLogQueries,
    due_dates.DueDatesQueries,
    trips_by_agent.TripsByAgentQueries,
    cancellations.CancellationQueries,
):
    pass


routes = [
    *ar_aging.routes,
    *ap_aging.routes,
    *vendor_payables.routes,
    *outstanding_receivables.routes,
    *charter_payment_status.routes,
    *zero_balance.routes,
    *unearned_revenue.routes,
    *check_log.routes,
    *due_dates.routes,
    *trips_by_agent.routes,
    *cancellations.routes,
]
