"""The charters subgraph: charters, itineraries, fleet, series, change cases, dispatch."""

from __future__ import annotations

from starlette.applications import Starlette

from subgraphs.charters import jobs
from subgraphs.charters.document_downloads import routes as document_routes
from subgraphs.charters.downloads import routes as download_routes
from subgraphs.charters.event_stream import start_stream, stop_stream
from subgraphs.charters.field_policy import apply_field_policy
from subgraphs.charters.models import outbox
from subgraphs.charters.mutations import Mutation
from subgraphs.charters.queries import Query
from subgraphs.charters.service.directory import (
    CLIENT_CHANGED,
    USER_CHANGED,
    apply_client_event,
    apply_user_event,
)
from subgraphs.charters.service.positions import start_writer, stop_writer
from subgraphs.charters.service.recovery import RECOVERY_ALERTED, apply_alerted_event
from subgraphs.charters.service.tour_departures import DEPARTURE_CHANGED, apply_departure_event
from subgraphs.charters.service.vendor_access import (
    ACCESS_CHANGED,
    VENDOR_USER_LINKED,
    apply_access_event,
    apply_vendor_user_event,
)
from subgraphs.charters.service.vendor_assignments import (
    ASSIGNMENT_CHANGED,
    apply_assignment_event,
)
from subgraphs.charters.subscriptions import Subscription
from subgraphs.charters.types import Charter, CharterSeries, CharterVehicle, Client, User
from subgraphs.charters.types_reports import Vendor
from subgraphs.kit.app import create_subgraph_app
from subgraphs.kit.schema import build_schema
from subgraphs.kit.settings import Settings, get_settings

schema = build_schema(
    Query,
    Mutation,
    subscription=Subscription,
    types=[Charter, CharterVehicle, CharterSeries, Client, User, Vendor],
)
# Portals: each field of a charter read only by the audiences `visibility.FIELDS` names.
apply_field_policy(schema)


#: Vendors' facts charters keeps (portals: what a vendor may read), by stream.
VENDOR_PROJECTIONS = {
    ACCESS_CHANGED: ("charters.vendor-access", apply_access_event),
    VENDOR_USER_LINKED: ("charters.vendor-accounts", apply_vendor_user_event),
    # Readiness tasks, confirmations and recovery follow vendors' assignments (issue 13).
    ASSIGNMENT_CHANGED: ("charters.vendor-assignments", apply_assignment_event),
}
#: Whom a charter may name (finding 12): sales' clients, identity's sales agents.
DIRECTORY_PROJECTIONS = {
    CLIENT_CHANGED: ("charters.known-clients", apply_client_event),
    USER_CHANGED: ("charters.known-sales-agents", apply_user_event),
}


#: Whom vendors alerted about a recovery case (issue 13): kept on the case.
RECOVERY_PROJECTIONS = {RECOVERY_ALERTED: ("charters.recovery-alerts", apply_alerted_event)}
#: Tours' departures confirmed to run, operated as shuttle charters (issue 15 §5).
TOUR_PROJECTIONS = {DEPARTURE_CHANGED: ("charters.tour-departures", apply_departure_event)}


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    return create_subgraph_app(
        "charters",
        schema,
        outbox=outbox,
        settings=settings,
        on_startup=[start_stream, start_writer],
        on_shutdown=[stop_writer, stop_stream],
        projections=VENDOR_PROJECTIONS
        | DIRECTORY_PROJECTIONS
        | RECOVERY_PROJECTIONS
        | TOUR_PROJECTIONS,
        jobs=jobs.jobs(settings),
        # The driver app's trip photos (issue 13): staff and the uploading driver.
        # Documents on charters and signed terms (issue 14): their readers only.
        routes=[*download_routes, *document_routes],
    )


app = create_app()
