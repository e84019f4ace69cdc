"""Mutations on the price list's rules; every edit leaves field-level history."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry
from strawberry.types import Info

from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow
from subgraphs.pricing.enums import RuleScope, RuleType, TripType
from subgraphs.pricing.mutations.common import DateRangeInput, parse_id, parse_ids, ranges
from subgraphs.pricing.service import rules
from subgraphs.pricing.service.access import EDIT_PRICE_LIST
from subgraphs.pricing.types import PricingRule


@strawberry.input(description="A rule; on update only the fields given change.")
class PricingRuleInput:
    name: str | None = None
    type: RuleType | None = None
    scope: RuleScope | None = None
    scope_value: str | None = strawberry.field(
        default=None,
        description="The client or vehicle type id, the hub code (MEM) or route (MEM-BNA).",
    )
    value: Decimal | None = None
    priority: int | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    days_of_week: list[int] | None = None
    date_ranges: list[DateRangeInput] | None = None
    vehicle_type_ids: list[strawberry.ID] | None = None
    trip_types: list[TripType] | None = None
    active: bool | None = None
    clear_valid_from: bool = False
    clear_valid_until: bool = False


@strawberry.type
class PricingRulePayload:
    rule: PricingRule | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _given(data: PricingRuleInput) -> rules.RuleInput:
    clear = {
        name
        for name, on in (
            ("valid_from", data.clear_valid_from),
            ("valid_until", data.clear_valid_until),
        )
        if on
    }
    return rules.RuleInput(
        name=data.name,
        rule_type=data.type.value if data.type else None,
        scope=data.scope.value if data.scope else None,
        scope_value=data.scope_value,
        value=data.value,
        priority=data.priority,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        days_of_week=data.days_of_week,
        date_ranges=ranges(data.date_ranges),
        vehicle_type_ids=parse_ids(data.vehicle_type_ids, "vehicleTypeIds"),
        trip_types=[t.value for t in data.trip_types] if data.trip_types is not None else None,
        active=data.active,
        clear=clear,
    )


@strawberry.type
class RuleMutations:
    @strawberry.mutation(extensions=[allow(*EDIT_PRICE_LIST)])
    async def create_pricing_rule(self, info: Info, input: PricingRuleInput) -> PricingRulePayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(info, lambda s: rules.create(s, _given(input), viewer))
        return PricingRulePayload(
            rule=PricingRule.from_row(row) if row else None, user_errors=errors
        )

    @strawberry.mutation(extensions=[allow(*EDIT_PRICE_LIST)])
    async def update_pricing_rule(
        self, info: Info, id: strawberry.ID, input: PricingRuleInput
    ) -> PricingRulePayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info, lambda s: rules.update(s, parse_id(id, "id"), _given(input), viewer)
        )
        return PricingRulePayload(
            rule=PricingRule.from_row(row) if row else None, user_errors=errors
        )
