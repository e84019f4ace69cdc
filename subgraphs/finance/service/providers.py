"""The payment provider the settings name, built in this one place.

`payment_provider` is "manual" (staff took the money on a terminal: nothing
to call) or "stripe" (the official library against `stripe_api_base`, or
Stripe itself when that is empty). A name nothing knows fails loudly
rather than quietly falling back to manual entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from subgraphs.finance.service.payment_provider import ManualProvider, PaymentProvider
from subgraphs.finance.service.stripe_provider import StripeProvider

if TYPE_CHECKING:
    from subgraphs.kit.settings import Settings

PROVIDERS = ("manual", "stripe")


def payment_provider(settings: Settings) -> PaymentProvider:
    name = settings.payment_provider.strip().lower()
    if name == "manual":
        return ManualProvider()
    if name == "stripe":
        return StripeProvider(
            settings.stripe_api_key,
            settings.stripe_webhook_secret,
            api_base=settings.stripe_api_base or None,
        )
    raise ValueError(f"unknown payment provider {settings.payment_provider!r}; one of {PROVIDERS}")
