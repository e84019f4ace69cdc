"""Itinerary mutations: each one edit of the stop list, applied atomically."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from subgraphs.charters.mutations.common import edit_charter
from subgraphs.charters.mutations.inputs import (
    ChangeRequestInput,
    StopInput,
    StopPatch,
    change_request,
    parse_id,
    stop_values,
)
from subgraphs.charters.mutations.payloads import CharterPayload
from subgraphs.charters.service import geocoding, itinerary
from subgraphs.charters.service.access import EDITORS
from subgraphs.charters.service.snapshots import Snapshot
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.payloads import user_errors
from subgraphs.kit.permissions import allow

ITINERARY = "itinerary_modification"


def _pure(fn):  # type: ignore[no-untyped-def]
    async def change(session: AsyncSession):  # type: ignore[no-untyped-def]
        return fn

    return change


async def _located(info: Info, values: dict[str, Any]) -> dict[str, Any]:
    """A stop's values with coordinates from the geocoder when given an address without them.

    Before the edit's transaction, so the charter's row lock never waits on
    the network. A patch that leaves the address alone is not looked up.
    """
    geocoder = geocoding.for_services(info.context.services)
    return geocoding.fill([values], await geocoding.locate(geocoder, [values]))[0]


@strawberry.type
class ItineraryMutations:
    @strawberry.mutation(
        extensions=[allow(*EDITORS)], description="Insert a stop (at the end by default)."
    )
    async def add_stop(
        self,
        info: Info,
        charter_id: strawberry.ID,
        stop: StopInput,
        position: int | None = None,
        change: ChangeRequestInput | None = None,
    ) -> CharterPayload:
        try:
            key = parse_id(charter_id, "charterId")
        except ServiceError as exc:
            return CharterPayload(user_errors=user_errors(exc))
        values = await _located(info, stop_values(stop))

        def apply(snap: Snapshot) -> Snapshot:
            return itinerary.add_stop(snap, values, position)

        return await edit_charter(
            info, key, _pure(apply), change_request(change, ITINERARY, "Stop added")
        )

    @strawberry.mutation(extensions=[allow(*EDITORS)])
    async def update_stop(
        self,
        info: Info,
        charter_id: strawberry.ID,
        stop_id: strawberry.ID,
        stop: StopPatch,
        change: ChangeRequestInput | None = None,
    ) -> CharterPayload:
        try:
            key, stop_key = parse_id(charter_id, "charterId"), parse_id(stop_id, "stopId")
        except ServiceError as exc:
            return CharterPayload(user_errors=user_errors(exc))
        values = await _located(info, stop_values(stop, partial=True))

        def apply(snap: Snapshot) -> Snapshot:
            return itinerary.update_stop(snap, stop_key, values)

        return await edit_charter(
            info, key, _pure(apply), change_request(change, ITINERARY, "Stop changed")
        )

    @strawberry.mutation(extensions=[allow(*EDITORS)])
    async def remove_stop(
        self,
        info: Info,
        charter_id: strawberry.ID,
        stop_id: strawberry.ID,
        change: ChangeRequestInput | None = None,
    ) -> CharterPayload:
        try:
            key, stop_key = parse_id(charter_id, "charterId"), parse_id(stop_id, "stopId")
        except ServiceError as exc:
            return CharterPayload(user_errors=user_errors(exc))

        def apply(snap: Snapshot) -> Snapshot:
            return itinerary.remove_stop(snap, stop_key)

        return await edit_charter(
            info, key, _pure(apply), change_request(change, ITINERARY, "Stop removed")
        )

    @strawberry.mutation(
        extensions=[allow(*EDITORS)], description="Give every stop, in the new order."
    )
    async def reorder_stops(
        self,
        info: Info,
        charter_id: strawberry.ID,
        stop_ids: list[strawberry.ID],
        change: ChangeRequestInput | None = None,
    ) -> CharterPayload:
        try:
            key = parse_id(charter_id, "charterId")
            order = [parse_id(s, "stopIds") for s in stop_ids]
        except ServiceError as exc:
            return CharterPayload(user_errors=user_errors(exc))

        def apply(snap: Snapshot) -> Snapshot:
            return itinerary.reorder_stops(snap, order)

        return await edit_charter(
            info, key, _pure(apply), change_request(change, ITINERARY, "Stops reordered")
        )
