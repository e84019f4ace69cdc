"""The finance subgraph: payments and their application, plans, balances (more per issue 12)."""

from __future__ import annotations

from starlette.applications import Starlette

from subgraphs.finance.downloads import routes as download_routes
from subgraphs.finance.models import outbox
from subgraphs.finance.mutations import Mutation
from subgraphs.finance.queries import Query
from subgraphs.finance.reports import routes as report_routes
from subgraphs.finance.service.facts import (
    CHARTER_CHANGED,
    CLIENT_CHANGED,
    QUOTE_ACCEPTED,
    apply_charter_event,
    apply_client_event,
    apply_quote_accepted,
)
from subgraphs.finance.types import Charter, Client
from subgraphs.kit.app import create_subgraph_app
from subgraphs.kit.schema import build_schema
from subgraphs.kit.settings import Settings, get_settings

schema = build_schema(Query, Mutation, types=[Charter, Client])

#: Other subgraphs' facts finance keeps, by stream: (consumer group, handler).
PROJECTIONS = {
    CLIENT_CHANGED: ("finance.client-facts", apply_client_event),
    CHARTER_CHANGED: ("finance.charter-facts", apply_charter_event),
    QUOTE_ACCEPTED: ("finance.accepted-prices", apply_quote_accepted),
}


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    return create_subgraph_app(
        "finance",
        schema,
        outbox=outbox,
        settings=settings,
        projections=PROJECTIONS,
        routes=[*download_routes, *report_routes],
    )


app = create_app()
