"""Production refuses to start with a secret that is missing or publicly known.

Earlier releases shipped readable default secrets (quote links, the
onboarding webhook); anyone who read the source could forge with them. A
secret now has no default at all, and outside development a process
checks, before it serves anything, that each one is set, long enough and
not one of the strings that were ever published.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from subgraphs.kit.settings import Settings

#: Every default secret that was ever committed; they can never be used again.
KNOWN_DEFAULTS: Final = frozenset(
    {
        "embedded-quote-link-secret-change-me",
        "embedded-onboarding-webhook-secret-change-me",
        "change-me",
        "secret",
    }
)
MIN_LENGTH: Final = 32
#: Environments that may run without the secrets (features needing them stay off).
RELAXED_ENVIRONMENTS: Final = frozenset({"development", "test"})


#: The embedded card sandbox's credentials (stack/card_sandbox.py): published in the
#: source for `make run`, so a production process holding them talks to a sandbox or
#: accepts webhooks anyone can sign.
SANDBOX_STRIPE_API_KEY: Final = "sk_test_athena_local"
SANDBOX_STRIPE_WEBHOOK_SECRET: Final = "whsec_athena_local_secret"  # noqa: S105 - published
LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain"})


class UnsafeSettingsError(RuntimeError):
    pass


def secret_problems(settings: Settings) -> list[str]:
    secrets = {
        "QUOTE_LINK_SECRET": [settings.quote_link_secret],
        "ONBOARDING_WEBHOOK_SECRET": [settings.onboarding_webhook_secret],
        "ROUTER_SECRETS": list(settings.router_secret_list) or [""],
    }
    problems = []
    for name, values in secrets.items():
        for value in values:
            if not value:
                problems.append(f"{name} is not set")
            elif value in KNOWN_DEFAULTS:
                problems.append(f"{name} is a published default")
            elif len(value) < MIN_LENGTH:
                problems.append(f"{name} is shorter than {MIN_LENGTH} characters")
    return problems


def _is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def payment_problems(settings: Settings) -> list[str]:
    """Money must reach the real provider: never the card sandbox or anything on this host."""
    problems = []
    if settings.stripe_api_base and _is_loopback(settings.stripe_api_base):
        problems.append(
            f"STRIPE_API_BASE points at this machine ({settings.stripe_api_base}): "
            "the card sandbox is for `make run` only"
        )
    if settings.stripe_api_key == SANDBOX_STRIPE_API_KEY:
        problems.append("STRIPE_API_KEY is the card sandbox's published key")
    if settings.stripe_webhook_secret == SANDBOX_STRIPE_WEBHOOK_SECRET:
        problems.append("STRIPE_WEBHOOK_SECRET is the card sandbox's published secret")
    return problems


def refuse_unsafe_settings(settings: Settings) -> None:
    if settings.environment.lower() in RELAXED_ENVIRONMENTS:
        return
    problems = secret_problems(settings) + payment_problems(settings)
    if problems:
        raise UnsafeSettingsError(
            f"refusing to start in {settings.environment}: " + "; ".join(problems)
        )
