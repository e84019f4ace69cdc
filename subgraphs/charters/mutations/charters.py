"""Mutations on a charter as a whole: create, edit, quotes, status, cancel."""

from __future__ import annotations

from datetime import timedelta

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from subgraphs.charters.enums import CharterStatus
from subgraphs.charters.mutations.common import charter_call, edit_charter
from subgraphs.charters.mutations.inputs import (
    ChangeRequestInput,
    CreateCharterInput,
    UpdateCharterInput,
    change_request,
    parse_id,
    parse_local,
    stop_values,
    vehicle_values,
)
from subgraphs.charters.mutations.payloads import CharterPayload, QuoteLinkPayload
from subgraphs.charters.service import charters as charter_service
from subgraphs.charters.service import geocoding, idempotency
from subgraphs.charters.service.access import EDITORS, REASSIGNERS, STATUS_MOVERS
from subgraphs.charters.service.snapshots import Snapshot
from subgraphs.charters.service.vehicles import with_type_capacity
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.payloads import transact, user_errors
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money


@strawberry.type
class CharterMutations:
    @strawberry.mutation(
        extensions=[allow(*EDITORS)],
        description="Create a quote; with `idempotencyKey`, at most one per key.",
    )
    async def create_charter(self, info: Info, input: CreateCharterInput) -> CharterPayload:
        stops = [{**stop_values(s), "id": None} for s in input.stops]
        # Before the transaction: no connection or lock waits on the geocoder.
        coordinates = await geocoding.locate(geocoding.for_services(info.context.services), stops)

        async def call(session: AsyncSession, viewer: object) -> object:
            vehicles = await with_type_capacity(
                session, [vehicle_values(v) for v in input.vehicles]
            )
            data = charter_service.NewCharter(
                client_id=parse_id(input.client_id, "clientId"),
                trip_type=input.trip_type.value,
                passenger_count=input.passenger_count,
                pickup_local=parse_local(input.pickup_local),
                pickup_time_zone=input.pickup_time_zone,
                ends_at=input.ends_at,
                notes=input.notes,
                requires_second_driver=input.requires_second_driver,
                estimated_miles=charter_service.estimated_miles(input.estimated_miles),
                sales_agent_id=parse_id(input.sales_agent_id, "salesAgentId"),
                stops=stops,
                coordinates=coordinates,
                vehicles=[{**v, "id": None} for v in vehicles],
                horizon_days=info.context.settings.charter_booking_horizon_days,
            )
            if input.idempotency_key is not None:
                return await idempotency.create_once(
                    session,
                    data,
                    viewer,  # type: ignore[arg-type]
                    input.idempotency_key,
                )
            return await charter_service.create(session, data, viewer)  # type: ignore[arg-type]

        return await charter_call(info, call)

    @strawberry.mutation(
        extensions=[allow(*EDITORS)],
        description="Change a quote; on a booked charter this files a change case instead.",
    )
    async def update_charter(
        self,
        info: Info,
        id: strawberry.ID,
        input: UpdateCharterInput,
        change: ChangeRequestInput | None = None,
    ) -> CharterPayload:
        try:
            fields: dict[str, object] = {
                "trip_type": input.trip_type.value if input.trip_type else None,
                "passenger_count": input.passenger_count,
                "pickup_local": parse_local(input.pickup_local).isoformat()
                if input.pickup_local
                else None,
                "pickup_time_zone": input.pickup_time_zone,
                "ends_at": input.ends_at.isoformat() if input.ends_at else None,
                "notes": input.notes,
                "requires_second_driver": input.requires_second_driver,
            }
            charter_id = parse_id(id, "id")
            miles = input.estimated_miles
            if miles is not strawberry.UNSET:
                valid = charter_service.estimated_miles(miles)
                cleared_or_set = {"estimated_miles": str(valid) if valid is not None else None}
            else:
                cleared_or_set = {}
        except ServiceError as exc:
            return CharterPayload(user_errors=user_errors(exc))
        # None means "not given", except for the miles, which null clears.
        given = {k: v for k, v in fields.items() if v is not None} | cleared_or_set
        kind = (
            "date_time_change"
            if {"pickup_local", "pickup_time_zone", "ends_at"} & set(given)
            else ("passenger_count_change" if "passenger_count" in given else "other")
        )

        async def change_fn(session: AsyncSession):  # type: ignore[no-untyped-def]
            def apply(snap: Snapshot) -> Snapshot:
                return {**snap, **given}

            return apply

        return await edit_charter(
            info, charter_id, change_fn, change_request(change, kind, "Charter details changed")
        )

    @strawberry.mutation(
        extensions=[allow(*EDITORS)], description="Start a new revision of a quote."
    )
    async def revise_quote(self, info: Info, id: strawberry.ID) -> CharterPayload:
        return await charter_call(
            info, lambda s, viewer: charter_service.revise_quote(s, parse_id(id, "id"), viewer)
        )

    @strawberry.mutation(
        extensions=[allow(*EDITORS)],
        description=(
            "A signed, expiring link to this open quote at its current revision "
            "(QUOTE_LINKS_DISABLED when no link secret is configured)."
        ),
    )
    async def create_quote_link(self, info: Info, id: strawberry.ID) -> QuoteLinkPayload:
        settings = info.context.settings

        viewer = await info.context.get_viewer()

        async def work(session: AsyncSession) -> tuple[str, object]:
            return await charter_service.create_quote_link(
                session,
                parse_id(id, "id"),
                viewer,
                settings.quote_link_secret,
                timedelta(seconds=settings.quote_link_ttl_seconds),
                settings.portal_url,
            )

        result, errors = await transact(info, work)
        if result is None:
            return QuoteLinkPayload(user_errors=errors)
        token, expires = result
        return QuoteLinkPayload(token=token, expires_at=expires)  # type: ignore[arg-type]

    @strawberry.mutation(
        extensions=[allow(*STATUS_MOVERS)],
        description=(
            "Move a charter along its lifecycle. Who may make each move and when is one "
            "table (`CHARTER_MOVES`): booking and confirming by its sales agent or staff "
            "who edit any charter (confirming also by dispatch), IN_PROGRESS from 3 hours "
            "before pickup and COMPLETED from the pickup, by dispatch only. BOOKED checks "
            "itinerary, capacity and blackouts."
        ),
    )
    async def set_charter_status(
        self, info: Info, id: strawberry.ID, status: CharterStatus
    ) -> CharterPayload:
        return await charter_call(
            info,
            lambda s, viewer: charter_service.transition(
                s, parse_id(id, "id"), status.value, viewer
            ),
        )

    @strawberry.mutation(extensions=[allow(*EDITORS)])
    async def cancel_charter(
        self, info: Info, id: strawberry.ID, reason: str, fee: Money | None = None
    ) -> CharterPayload:
        return await charter_call(
            info,
            lambda s, viewer: charter_service.cancel(
                s, parse_id(id, "id"), reason=reason, fee=fee, actor=viewer
            ),
        )

    @strawberry.mutation(
        extensions=[allow(*REASSIGNERS)],
        description="Give a quote to another agent (a known sales agent); sales support and managers.",
    )
    async def reassign_charter(
        self, info: Info, id: strawberry.ID, agent_id: strawberry.ID
    ) -> CharterPayload:
        return await charter_call(
            info,
            lambda s, viewer: charter_service.reassign(
                s, parse_id(id, "id"), parse_id(agent_id, "agentId"), viewer
            ),
        )
