"""Mutations on promo codes (managers) and on a charter's code (sales staff)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import strawberry
from strawberry.types import Info

from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money
from subgraphs.pricing.enums import DiscountType, TripType
from subgraphs.pricing.mutations.common import parse_id, parse_ids
from subgraphs.pricing.service import promos
from subgraphs.pricing.service.access import EDIT_PRICE_LIST, PRICE_QUOTES
from subgraphs.pricing.types import PromoCode, PromoRedemption


@strawberry.input(description="A promo code; on update only the fields given change.")
class PromoCodeInput:
    code: str | None = strawberry.field(default=None, description="Stored upper-case.")
    description: str | None = None
    discount_type: DiscountType | None = None
    value: Decimal | None = strawberry.field(
        default=None, description="A percentage (at most 100) or an amount."
    )
    valid_from: date | None = None
    valid_until: date | None = None
    max_uses: int | None = None
    once_per_client: bool | None = None
    minimum_amount: Money | None = None
    vehicle_type_ids: list[strawberry.ID] | None = None
    trip_types: list[TripType] | None = None


@strawberry.type
class PromoCodePayload:
    promo_code: PromoCode | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ApplyPromoCodePayload:
    redemption: PromoRedemption | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RemovePromoCodePayload:
    removed: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _given(data: PromoCodeInput) -> promos.PromoInput:
    return promos.PromoInput(
        code=data.code,
        description=data.description,
        discount_type=data.discount_type.value if data.discount_type else None,
        value=data.value,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        max_uses=data.max_uses,
        once_per_client=data.once_per_client,
        minimum_amount=data.minimum_amount,
        vehicle_type_ids=parse_ids(data.vehicle_type_ids, "vehicleTypeIds"),
        trip_types=[t.value for t in data.trip_types] if data.trip_types is not None else None,
    )


def _payload(row: object, errors: list[UserError]) -> PromoCodePayload:
    return PromoCodePayload(promo_code=PromoCode.from_row(row) if row else None, user_errors=errors)


@strawberry.type
class PromoMutations:
    @strawberry.mutation(extensions=[allow(*EDIT_PRICE_LIST)])
    async def create_promo_code(self, info: Info, input: PromoCodeInput) -> PromoCodePayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(info, lambda s: promos.create(s, _given(input), viewer))
        return _payload(row, errors)

    @strawberry.mutation(extensions=[allow(*EDIT_PRICE_LIST)])
    async def update_promo_code(
        self, info: Info, id: strawberry.ID, input: PromoCodeInput
    ) -> PromoCodePayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info, lambda s: promos.update_code(s, parse_id(id, "id"), _given(input), viewer)
        )
        return _payload(row, errors)

    @strawberry.mutation(
        extensions=[allow(*EDIT_PRICE_LIST)],
        description="Deactivate (or reactivate) a code; its usage log stays.",
    )
    async def set_promo_code_active(
        self, info: Info, id: strawberry.ID, active: bool
    ) -> PromoCodePayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info, lambda s: promos.set_active(s, parse_id(id, "id"), active, viewer)
        )
        return _payload(row, errors)

    @strawberry.mutation(
        extensions=[allow(*PRICE_QUOTES)],
        description="Redeem a code on a quote: one use, or a user error saying why not.",
    )
    async def apply_promo_code(
        self, info: Info, charter_id: strawberry.ID, code: str
    ) -> ApplyPromoCodePayload:
        viewer = await info.context.get_viewer()
        today = (
            datetime.now(UTC).astimezone(ZoneInfo(info.context.settings.operator_time_zone)).date()
        )
        row, errors = await transact(
            info,
            lambda s: promos.apply(s, parse_id(charter_id, "charterId"), code, viewer, today),
        )
        return ApplyPromoCodePayload(
            redemption=PromoRedemption.from_row(row) if row else None, user_errors=errors
        )

    @strawberry.mutation(
        extensions=[allow(*PRICE_QUOTES)],
        description="Take the code off a quote (its use is returned).",
    )
    async def remove_promo_code(
        self, info: Info, charter_id: strawberry.ID
    ) -> RemovePromoCodePayload:
        viewer = await info.context.get_viewer()
        removed, errors = await transact(
            info, lambda s: promos.remove(s, parse_id(charter_id, "charterId"), viewer)
        )
        return RemovePromoCodePayload(removed=bool(removed), user_errors=errors)
