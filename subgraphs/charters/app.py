"""The charters subgraph: charters, itineraries, fleet, series, change cases, dispatch."""

from __future__ import annotations

from starlette.applications import Starlette

from subgraphs.charters.event_stream import start_stream, stop_stream
from subgraphs.charters.field_policy import FieldPolicy
from subgraphs.charters.models import outbox
from subgraphs.charters.mutations import Mutation
from subgraphs.charters.queries import Query
from subgraphs.charters.service.directory import SalesAgentSightings
from subgraphs.charters.subscriptions import Subscription
from subgraphs.charters.types import Charter, CharterSeries, CharterVehicle, Client, User
from subgraphs.kit.app import create_subgraph_app
from subgraphs.kit.schema import build_schema
from subgraphs.kit.settings import Settings

schema = build_schema(
    Query,
    Mutation,
    subscription=Subscription,
    types=[Charter, CharterVehicle, CharterSeries, Client, User],
    # Until the sales subgraph exists: learn who the sales agents are (finding 12).
    # Portals: each field of a charter read only by the audiences `visibility.FIELDS` names.
    extensions=[SalesAgentSightings, FieldPolicy],
)


def create_app(settings: Settings | None = None) -> Starlette:
    return create_subgraph_app(
        "charters",
        schema,
        outbox=outbox,
        settings=settings,
        on_startup=[start_stream],
        on_shutdown=[stop_stream],
    )


app = create_app()
