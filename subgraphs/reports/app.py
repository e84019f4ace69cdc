"""The reports subgraph: saved operations run through the router as their reader, schedules."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from subgraphs.kit.app import create_subgraph_app
from subgraphs.kit.schema import build_schema
from subgraphs.kit.settings import Settings, get_settings
from subgraphs.reports import jobs
from subgraphs.reports.downloads import routes as download_routes
from subgraphs.reports.models import outbox
from subgraphs.reports.mutations import Mutation
from subgraphs.reports.queries import Query
from subgraphs.reports.service import graph_port, run_tokens, schedules, shipped, templates
from subgraphs.reports.types import FEDERATED_TYPES

schema = build_schema(Query, Mutation, types=FEDERATED_TYPES)

#: Other subgraphs' events reports consumes, by stream: (consumer group, handler).
PROJECTIONS: dict[str, tuple[str, Any]] = {}


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    return create_subgraph_app(
        "reports",
        schema,
        outbox=outbox,
        settings=settings,
        projections=PROJECTIONS,
        jobs=jobs.jobs(settings) if settings.reports_jobs_enabled else [],
        # Shipped templates first, so the start-up check of templates judges them too.
        on_startup=[
            shipped.install_at_startup,
            schedules.install_shipped_at_startup,
            templates.mark_broken_at_startup,
        ],
        # Runs' pooled client to the router, closed with the app.
        on_shutdown=[graph_port.close, run_tokens.close],
        routes=[*download_routes],
    )


app = create_app()
