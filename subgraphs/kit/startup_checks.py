"""Production refuses to start with a secret that is missing or publicly known.

Earlier releases shipped readable default secrets (quote links, the
onboarding webhook); anyone who read the source could forge with them. A
secret now has no default at all, and outside development a process
checks, before it serves anything, that each one is set, long enough and
not one of the strings that were ever published.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

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


def refuse_unsafe_settings(settings: Settings) -> None:
    if settings.environment.lower() in RELAXED_ENVIRONMENTS:
        return
    problems = secret_problems(settings)
    if problems:
        raise UnsafeSettingsError(
            f"refusing to start in {settings.environment}: " + "; ".join(problems)
        )
