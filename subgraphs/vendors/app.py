"""The vendors subgraph: vendors, compliance, bids, assignments, ratings."""

from __future__ import annotations

from starlette.applications import Starlette

from subgraphs.kit.app import create_subgraph_app
from subgraphs.kit.schema import build_schema
from subgraphs.kit.settings import Settings, get_settings
from subgraphs.vendors import jobs
from subgraphs.vendors.downloads import routes as download_routes
from subgraphs.vendors.models import outbox
from subgraphs.vendors.mutations import Mutation
from subgraphs.vendors.queries import Query
from subgraphs.vendors.service import recovery_alerts
from subgraphs.vendors.service.projection import TOPIC as CHARTER_EVENTS
from subgraphs.vendors.service.projection import apply_charter_event
from subgraphs.vendors.types import Charter, CharterVehicle, User, Vendor
from subgraphs.vendors.webhooks import routes as webhook_routes

schema = build_schema(Query, Mutation, types=[Vendor, CharterVehicle, Charter, User])


#: Charters' facts vendors keeps (bids, ratings, opportunities), by stream.
PROJECTIONS = {CHARTER_EVENTS: ("vendors.charter-facts", apply_charter_event)}


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    return create_subgraph_app(
        "vendors",
        schema,
        outbox=outbox,
        routes=[*webhook_routes, *download_routes],
        # Recovery alerts (issue 13): vendors decides whom a vendor search reaches; its alerts,
        # like the certification and cancellation alerts, are mailed by notifications.
        projections=PROJECTIONS | recovery_alerts.projections(settings),
        jobs=jobs.jobs(settings) if settings.compliance_job_enabled else [],
        settings=settings,
    )


app = create_app()
