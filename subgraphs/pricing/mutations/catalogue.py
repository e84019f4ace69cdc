"""Mutations on the rest of the price list: amenities, modifiers, hubs, hours of service."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money
from subgraphs.pricing.enums import AmenityCategory, AmenityPricing, DiscountType, ModifierKind
from subgraphs.pricing.mutations.common import DateRangeInput, parse_id, stored_ranges
from subgraphs.pricing.service import catalogue
from subgraphs.pricing.service.access import EDIT_PRICE_LIST
from subgraphs.pricing.types import Amenity, HoursOfServiceRules, Hub, PricingModifier


@strawberry.input(description="An amenity; on update only the fields given change.")
class AmenityInput:
    name: str | None = None
    description: str | None = None
    category: AmenityCategory | None = None
    pricing: AmenityPricing | None = None
    price: Money | None = None
    active: bool | None = None
    display_order: int | None = None


@strawberry.input(description="A modifier; on update only the fields given change.")
class PricingModifierInput:
    name: str | None = None
    kind: ModifierKind | None = None
    adjustment: DiscountType | None = None
    value: Decimal | None = strawberry.field(
        default=None, description="A percentage (-100..100) or an amount."
    )
    days_of_week: list[int] | None = None
    date_ranges: list[DateRangeInput] | None = None
    hub_codes: list[str] | None = None
    within_hours: int | None = strawberry.field(
        default=None, description="ASAP: the pickup is within this many hours of quoting."
    )
    priority: int | None = None
    exclusive: bool | None = strawberry.field(
        default=None, description="Stops every lower-priority modifier from applying."
    )
    active: bool | None = None


@strawberry.input
class HubInput:
    code: str | None = None
    name: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    radius_miles: int | None = None


@strawberry.input
class HoursOfServiceInput:
    max_driving_hours: Decimal | None = None
    max_on_duty_hours: Decimal | None = None
    cycle_hours: Decimal | None = None
    cycle_days: int | None = None
    average_speed_mph: Decimal | None = None


@strawberry.type
class AmenityPayload:
    amenity: Amenity | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PricingModifierPayload:
    modifier: PricingModifier | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class HubPayload:
    hub: Hub | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class HoursOfServicePayload:
    rules: HoursOfServiceRules | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _optional_id(value: strawberry.ID | None) -> Any:
    return parse_id(value, "id") if value is not None else None


@strawberry.type
class CatalogueMutations:
    @strawberry.mutation(
        extensions=[allow(*EDIT_PRICE_LIST)],
        description="Create an amenity (no id) or change one; charters keep the price they got.",
    )
    async def save_amenity(
        self, info: Info, input: AmenityInput, id: strawberry.ID | None = None
    ) -> AmenityPayload:
        viewer = await info.context.get_viewer()
        given = catalogue.AmenityInput(
            name=input.name,
            description=input.description,
            category=input.category.value if input.category else None,
            pricing_type=input.pricing.value if input.pricing else None,
            price=input.price,
            active=input.active,
            display_order=input.display_order,
        )
        row, errors = await transact(
            info, lambda s: catalogue.save_amenity(s, _optional_id(id), given, viewer)
        )
        return AmenityPayload(amenity=Amenity.from_row(row) if row else None, user_errors=errors)

    @strawberry.mutation(
        extensions=[allow(*EDIT_PRICE_LIST)], description="Create or change a modifier."
    )
    async def save_pricing_modifier(
        self, info: Info, input: PricingModifierInput, id: strawberry.ID | None = None
    ) -> PricingModifierPayload:
        viewer = await info.context.get_viewer()
        given = catalogue.ModifierInput(
            name=input.name,
            kind=input.kind.value if input.kind else None,
            adjustment=input.adjustment.value if input.adjustment else None,
            value=input.value,
            days_of_week=input.days_of_week,
            date_ranges=stored_ranges(input.date_ranges),
            hub_codes=[c.strip().upper() for c in input.hub_codes]
            if input.hub_codes is not None
            else None,
            within_hours=input.within_hours,
            priority=input.priority,
            exclusive=input.exclusive,
            active=input.active,
        )
        row, errors = await transact(
            info, lambda s: catalogue.save_modifier(s, _optional_id(id), given, viewer)
        )
        return PricingModifierPayload(
            modifier=PricingModifier.from_row(row) if row else None, user_errors=errors
        )

    @strawberry.mutation(
        extensions=[allow(*EDIT_PRICE_LIST)], description="Create or change a hub."
    )
    async def save_hub(
        self, info: Info, input: HubInput, id: strawberry.ID | None = None
    ) -> HubPayload:
        viewer = await info.context.get_viewer()
        given = catalogue.HubInput(
            code=input.code,
            name=input.name,
            latitude=input.latitude,
            longitude=input.longitude,
            radius_miles=input.radius_miles,
        )
        row, errors = await transact(
            info, lambda s: catalogue.save_hub(s, _optional_id(id), given, viewer)
        )
        return HubPayload(hub=Hub.from_row(row) if row else None, user_errors=errors)

    @strawberry.mutation(extensions=[allow(*EDIT_PRICE_LIST)])
    async def set_hours_of_service_rules(
        self, info: Info, input: HoursOfServiceInput
    ) -> HoursOfServicePayload:
        viewer = await info.context.get_viewer()
        given = catalogue.HoursInput(
            max_driving_hours=input.max_driving_hours,
            max_on_duty_hours=input.max_on_duty_hours,
            cycle_hours=input.cycle_hours,
            cycle_days=input.cycle_days,
            average_speed_mph=input.average_speed_mph,
        )
        row, errors = await transact(info, lambda s: catalogue.set_hours_rules(s, given, viewer))
        return HoursOfServicePayload(
            rules=HoursOfServiceRules.from_row(row) if row else None, user_errors=errors
        )
