"""The pricing subgraph: the price list, the engine, and `Charter.quote` through `@requires`."""

from __future__ import annotations

from starlette.applications import Starlette

from subgraphs.kit.app import create_subgraph_app
from subgraphs.kit.schema import build_schema
from subgraphs.kit.settings import Settings, get_settings
from subgraphs.pricing.models import outbox
from subgraphs.pricing.mutations import Mutation
from subgraphs.pricing.queries import Query
from subgraphs.pricing.service.facts import (
    CHARTER_CHANGED,
    VEHICLE_TYPE_CHANGED,
    apply_charter_event_and_accept,
    apply_vehicle_type_event,
)
from subgraphs.pricing.types import Charter, CharterVehicle, Client

schema = build_schema(Query, Mutation, types=[Charter, CharterVehicle, Client])

#: Charters' facts pricing keeps, by stream: (consumer group, handler).
PROJECTIONS = {
    VEHICLE_TYPE_CHANGED: ("pricing.vehicle-types", apply_vehicle_type_event),
    CHARTER_CHANGED: ("pricing.charter-facts", apply_charter_event_and_accept),
}


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    return create_subgraph_app(
        "pricing",
        schema,
        outbox=outbox,
        settings=settings,
        projections=PROJECTIONS,
    )


app = create_app()
