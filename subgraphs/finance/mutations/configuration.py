"""Editing the payment configuration (EDIT_PAYMENT_CONFIG: the accounting managers)."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from strawberry.types import Info

from subgraphs.finance.service import configuration
from subgraphs.finance.service.access import EDIT_PAYMENT_CONFIG
from subgraphs.finance.types.configuration import PaymentConfiguration
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money


@strawberry.input(description="What changes; a field left out stays as it is.")
class UpdatePaymentConfigurationInput:
    deposit_percent: Decimal | None = strawberry.field(default=None, description="0 to 100.")
    deposit_days_before: int | None = strawberry.field(default=None, description="0 or more.")
    balance_days_before: int | None = strawberry.field(default=None, description="0 or more.")
    autopay_allowed: bool | None = None
    card_on_file_required: bool | None = None
    po_client_types: list[str] | None = strawberry.field(
        default=None, description="Sales' client types, e.g. government, corporate."
    )
    po_credit_limit: Money | None = strawberry.field(default=None, description="0 or more.")


@strawberry.type
class PaymentConfigurationPayload:
    configuration: PaymentConfiguration | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ConfigurationMutations:
    @strawberry.mutation(
        extensions=[allow(*EDIT_PAYMENT_CONFIG)],
        description="Change the payment configuration; audited (before, after, who). New plans "
        "follow it, existing plans keep theirs.",
    )
    async def update_payment_configuration(
        self, info: Info, input: UpdatePaymentConfigurationInput
    ) -> PaymentConfigurationPayload:
        viewer = await info.context.get_viewer()
        change = configuration.ConfigChange(
            deposit_percent=input.deposit_percent,
            deposit_days_before=input.deposit_days_before,
            balance_days_before=input.balance_days_before,
            autopay_allowed=input.autopay_allowed,
            card_on_file_required=input.card_on_file_required,
            po_client_types=tuple(input.po_client_types)
            if input.po_client_types is not None
            else None,
            po_credit_limit=input.po_credit_limit,
        )
        row, errors = await transact(info, lambda s: configuration.update(s, change, viewer))
        return PaymentConfigurationPayload(
            configuration=PaymentConfiguration.from_row(row) if row else None, user_errors=errors
        )
