"""Rating mutations: staff (or the charter's client) rate; the vendor responds once."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from strawberry.types import Info

from protocol.roles import Role
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow
from subgraphs.vendors.mutations.common import parse_id
from subgraphs.vendors.service import ratings
from subgraphs.vendors.service.access import RESPOND_TO_RATINGS, STAFF
from subgraphs.vendors.types import Rating


@strawberry.type
class RatingPayload:
    rating: Rating | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(
    description="Six scores, each from 1.0 to 5.0 with at most one decimal (such as 4.5)."
)
class RatingInput:
    overall: Decimal
    vehicle_condition: Decimal
    driver_professionalism: Decimal
    on_time: Decimal
    communication: Decimal
    value: Decimal
    comment: str | None = None


def _payload(row: object, errors: list[UserError]) -> RatingPayload:
    return RatingPayload(rating=Rating.from_row(row) if row else None, user_errors=errors)  # type: ignore[arg-type]


@strawberry.type
class RatingMutations:
    @strawberry.mutation(
        extensions=[allow(*STAFF, Role.CLIENT)],
        description="Rate the vendor that served a completed charter (once per charter).",
    )
    async def rate_vendor(
        self, info: Info, vendor_id: strawberry.ID, charter_id: strawberry.ID, input: RatingInput
    ) -> RatingPayload:
        viewer = await info.context.get_viewer()
        data = ratings.NewRating(
            overall=input.overall,
            vehicle_condition=input.vehicle_condition,
            driver_professionalism=input.driver_professionalism,
            on_time=input.on_time,
            communication=input.communication,
            value=input.value,
            comment=input.comment,
        )
        row, errors = await transact(
            info,
            lambda s: ratings.rate(
                s,
                vendor_id=parse_id(vendor_id, "vendorId"),
                charter_id=parse_id(charter_id, "charterId"),
                data=data,
                actor=viewer,
            ),
        )
        return _payload(row, errors)

    @strawberry.mutation(
        extensions=[allow(*RESPOND_TO_RATINGS)],
        description="The rated vendor's one public response to a rating, by its own users "
        "(never staff on its behalf).",
    )
    async def respond_to_rating(
        self, info: Info, id: strawberry.ID, response: str
    ) -> RatingPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info, lambda s: ratings.respond(s, parse_id(id, "id"), response, viewer)
        )
        return _payload(row, errors)
