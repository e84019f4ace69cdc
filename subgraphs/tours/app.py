"""The tours subgraph: scheduled departures sold by the seat, their waitlists and calendars."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from subgraphs.kit.app import create_subgraph_app
from subgraphs.kit.schema import build_schema
from subgraphs.kit.settings import Settings, get_settings
from subgraphs.tours import jobs
from subgraphs.tours.models import outbox
from subgraphs.tours.mutations import Mutation
from subgraphs.tours.queries import Query
from subgraphs.tours.service.charter_facts import CHARTER_CHANGED, apply_charter_event
from subgraphs.tours.types import FEDERATED_TYPES

schema = build_schema(Query, Mutation, types=FEDERATED_TYPES)

#: Other subgraphs' events tours consumes, by stream: (consumer group, handler).
PROJECTIONS: dict[str, tuple[str, Any]] = {
    # The charter operating each confirmed departure (issue 15 §5): `DepartureSlot.charter`.
    CHARTER_CHANGED: ("tours.charter-links", apply_charter_event),
}


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    return create_subgraph_app(
        "tours",
        schema,
        outbox=outbox,
        settings=settings,
        projections=PROJECTIONS,
        jobs=jobs.jobs(settings) if settings.tours_jobs_enabled else [],
    )


app = create_app()
