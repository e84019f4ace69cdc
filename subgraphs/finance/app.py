"""The finance subgraph: payments and their application, plans, balances (more per issue 12)."""

from __future__ import annotations

from starlette.applications import Starlette

from subgraphs.finance import jobs
from subgraphs.finance.downloads import routes as download_routes
from subgraphs.finance.models import outbox
from subgraphs.finance.mutations import Mutation
from subgraphs.finance.queries import Query
from subgraphs.finance.reports import routes as report_routes
from subgraphs.finance.service import sync_worker, vendor_facts
from subgraphs.finance.service.facts import (
    CHARTER_CHANGED,
    CLIENT_CHANGED,
    QUOTE_ACCEPTED,
    apply_charter_event,
    apply_client_event,
    apply_quote_accepted,
)
from subgraphs.finance.sync_webhooks import routes as sync_webhook_routes
from subgraphs.finance.types import Charter, Client, Vendor
from subgraphs.finance.types.dashboard import User
from subgraphs.finance.webhooks import routes as stripe_webhook_routes
from subgraphs.kit.app import create_subgraph_app
from subgraphs.kit.schema import build_schema
from subgraphs.kit.settings import Settings, get_settings

schema = build_schema(Query, Mutation, types=[Charter, Client, Vendor, User])

#: Other subgraphs' facts finance keeps, by stream: (consumer group, handler).
PROJECTIONS = {
    CLIENT_CHANGED: ("finance.client-facts", apply_client_event),
    CHARTER_CHANGED: ("finance.charter-facts", apply_charter_event),
    QUOTE_ACCEPTED: ("finance.accepted-prices", apply_quote_accepted),
    vendor_facts.VENDOR_CHANGED: ("finance.vendor-facts", vendor_facts.apply_vendor_event),
    vendor_facts.VENDOR_USER_LINKED: (
        "finance.vendor-user-facts",
        vendor_facts.apply_vendor_user_event,
    ),
    vendor_facts.ASSIGNMENT_CHANGED: (
        "finance.assignment-facts",
        vendor_facts.apply_assignment_event,
    ),
}


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    return create_subgraph_app(
        "finance",
        schema,
        outbox=outbox,
        settings=settings,
        projections=PROJECTIONS,
        jobs=[*jobs.jobs(settings), *jobs.autopay_jobs(settings)]
        if settings.finance_jobs_enabled
        else [],
        routes=[*download_routes, *report_routes, *sync_webhook_routes, *stripe_webhook_routes],
        # The QuickBooks sync: a periodic pass, only when QUICKBOOKS_ENABLED (off by default).
        on_startup=[sync_worker.start],
        on_shutdown=[sync_worker.stop],
    )


app = create_app()
