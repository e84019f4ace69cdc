"""The sales subgraph: clients (the CRM) and leads; the agent dashboard follows."""

from __future__ import annotations

from starlette.applications import Starlette

from subgraphs.kit.app import create_subgraph_app
from subgraphs.kit.schema import build_schema
from subgraphs.kit.settings import Settings, get_settings
from subgraphs.sales.models import outbox
from subgraphs.sales.mutations import Mutation
from subgraphs.sales.queries import Query
from subgraphs.sales.types import Client, Lead, User

schema = build_schema(Query, Mutation, types=[Client, Lead, User])


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    return create_subgraph_app("sales", schema, outbox=outbox, settings=settings)


app = create_app()
