"""The sales subgraph: clients (the CRM), leads, the assignment queue, the agent dashboard."""

from __future__ import annotations

from starlette.applications import Starlette

from subgraphs.kit.app import create_subgraph_app
from subgraphs.kit.schema import build_schema
from subgraphs.kit.settings import Settings, get_settings
from subgraphs.sales import jobs
from subgraphs.sales.models import outbox
from subgraphs.sales.mutations import Mutation
from subgraphs.sales.queries import Query
from subgraphs.sales.service.agents import USER_CHANGED, apply_user_event
from subgraphs.sales.service.charter_facts import CHARTER_CHANGED, apply_charter_event
from subgraphs.sales.service.charters_port import close_charter_quotes
from subgraphs.sales.types import Client, Lead, User

schema = build_schema(Query, Mutation, types=[Client, Lead, User])

#: Other subgraphs' facts sales keeps, by stream: (consumer group, handler).
PROJECTIONS = {
    USER_CHANGED: ("sales.agents", apply_user_event),
    CHARTER_CHANGED: ("sales.charter-facts", apply_charter_event),
}


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    return create_subgraph_app(
        "sales",
        schema,
        outbox=outbox,
        settings=settings,
        projections=PROJECTIONS,
        on_shutdown=[close_charter_quotes],
        jobs=jobs.jobs(settings),
    )


app = create_app()
