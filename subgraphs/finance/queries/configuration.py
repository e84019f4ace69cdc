"""Reading the payment configuration (READ_PAYMENT_CONFIG: finance staff)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from subgraphs.finance.service import configuration
from subgraphs.finance.service.access import READ_PAYMENT_CONFIG
from subgraphs.finance.types.configuration import PaymentConfiguration
from subgraphs.kit.permissions import allow


@strawberry.type
class ConfigurationQueries:
    @strawberry.field(
        extensions=[allow(*READ_PAYMENT_CONFIG)], description="The payment configuration."
    )
    async def payment_configuration(self, info: Info) -> PaymentConfiguration:
        async with info.context.sessions() as session, session.begin():
            # `current` restores the seed defaults when the row is missing, hence a transaction.
            return PaymentConfiguration.from_row(await configuration.current(session))
