"""Mutations on a charter's quote that pricing owns: its amenities."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow
from subgraphs.pricing.mutations.common import parse_id
from subgraphs.pricing.service import charter_amenities
from subgraphs.pricing.service.access import PRICE_QUOTES
from subgraphs.pricing.types import CharterAmenity


@strawberry.type
class CharterAmenityPayload:
    charter_amenity: CharterAmenity | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RemoveCharterAmenityPayload:
    removed: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CharterQuoteMutations:
    @strawberry.mutation(
        extensions=[allow(*PRICE_QUOTES)],
        description="Add an amenity to a quote at today's price (again: set its quantity).",
    )
    async def add_charter_amenity(
        self, info: Info, charter_id: strawberry.ID, amenity_id: strawberry.ID, quantity: int = 1
    ) -> CharterAmenityPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info,
            lambda s: charter_amenities.add(
                s,
                parse_id(charter_id, "charterId"),
                parse_id(amenity_id, "amenityId"),
                quantity,
                viewer,
            ),
        )
        return CharterAmenityPayload(
            charter_amenity=CharterAmenity.from_row(row) if row else None, user_errors=errors
        )

    @strawberry.mutation(extensions=[allow(*PRICE_QUOTES)])
    async def remove_charter_amenity(
        self, info: Info, charter_id: strawberry.ID, amenity_id: strawberry.ID
    ) -> RemoveCharterAmenityPayload:
        viewer = await info.context.get_viewer()
        removed, errors = await transact(
            info,
            lambda s: charter_amenities.remove(
                s, parse_id(charter_id, "charterId"), parse_id(amenity_id, "amenityId"), viewer
            ),
        )
        return RemoveCharterAmenityPayload(removed=bool(removed), user_errors=errors)
