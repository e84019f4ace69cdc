"""The notifications subgraph: what the business tells people, how, and what became of it."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from subgraphs.kit.app import create_subgraph_app
from subgraphs.kit.schema import build_schema
from subgraphs.kit.settings import Settings, get_settings
from subgraphs.notifications import jobs
from subgraphs.notifications.models import outbox
from subgraphs.notifications.mutations import Mutation
from subgraphs.notifications.queries import Query
from subgraphs.notifications.service import (
    account_messages,
    client_messages,
    delivery,
    facts,
    report_messages,
    sales_messages,
    templates,
    tour_messages,
    vendor_messages,
)
from subgraphs.notifications.tracking_routes import routes as tracking_routes
from subgraphs.notifications.types import Charter, Client, Lead, User

schema = build_schema(Query, Mutation, types=[Charter, Client, Lead, User])

#: Other subgraphs' events notifications consumes, by stream: (consumer group, handler).
PROJECTIONS: dict[str, tuple[str, Any]] = {
    **client_messages.CONSUMERS,
}


def _chained(*handlers: Any) -> Any:
    """One stream, one handler: several deciders of one topic run in turn, in one transaction."""

    async def handle(session: Any, event: dict[str, Any]) -> None:
        for handler in handlers:
            await handler(session, event)

    return handle


# Issue 14 §1: account, vendor, driver and sales messages. A topic already consumed above
# is chained (a second entry would replace the first), never added again.
# Issue 15: tour customers' bookings and waitlist offers.
# Issue 16: scheduled report mails with the file attached.
for _more in (
    account_messages.CONSUMERS,
    vendor_messages.CONSUMERS,
    sales_messages.CONSUMERS,
    tour_messages.CONSUMERS,
    report_messages.CONSUMERS,
):
    if set(_more) & set(PROJECTIONS):
        raise RuntimeError(f"topics consumed twice: {sorted(set(_more) & set(PROJECTIONS))}")
    PROJECTIONS |= _more
_charters_group, _tell_clients = PROJECTIONS[facts.CHARTER_CHANGED]
PROJECTIONS[facts.CHARTER_CHANGED] = (
    _charters_group,
    _chained(_tell_clients, vendor_messages.on_charter_changed),
)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or get_settings()
    return create_subgraph_app(
        "notifications",
        schema,
        outbox=outbox,
        settings=settings,
        projections=PROJECTIONS,
        jobs=jobs.jobs(settings) if settings.notifications_jobs_enabled else [],
        routes=[*tracking_routes],
        # every kind has a template before the first event is consumed (never overwrites edits)
        on_startup=[templates.install_defaults_at_startup, delivery.start],
        on_shutdown=[delivery.stop],
    )


app = create_app()
