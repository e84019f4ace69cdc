"""The `ready` message: everything a person needs to start using the stack."""

from __future__ import annotations

from pathlib import Path

from stack.plan import Plan

DEMO_ROLES = (
    "admin",
    "manager",
    "sales_agent",
    "sales_support",
    "dispatcher",
    "accounting",
    "client",
    "vendor",
    "driver",
)
DEMO_PASSWORD = "athena-demo"  # noqa: S105 - the documented embedded demo password


def demo_logins() -> list[str]:
    return [f"{role}@demo.athena" for role in DEMO_ROLES]


def ready_banner(
    plan: Plan,
    database_url: str,
    redis_url: str,
    log_dir: Path,
    mail_dir: Path | None = None,
    card_sandbox_url: str | None = None,
) -> str:
    """`ready` on its own first line (scripts wait for it), then URLs and logins."""
    lines = ["ready"]
    # The router first: it is the one URL most people need.
    for service in sorted(plan.services, key=lambda s: s.name != "router"):
        label = "GraphQL" if service.name == "router" else service.name
        note = f"  ({service.description})" if service.name == "router" else ""
        lines.append(f"  {label + ':':<11} {service.graphql_url}{note}")
    if not plan.services:
        lines.append("  (no subgraph exists yet: only PostgreSQL and Redis are running)")
    lines += [
        f"  {'PostgreSQL:':<11} {database_url}",
        f"  {'Redis:':<11} {redis_url}",
        f"  {'Logs:':<11} {log_dir}/",
        *([f"  {'Mail:':<11} {mail_dir}/  (every message sent, as .eml)"] if mail_dir else []),
        *(
            [
                f"  {'Cards:':<11} {card_sandbox_url}  (Stripe stand-in: "
                "pm_card_visa pays, pm_card_chargeDeclined is declined)"
            ]
            if card_sandbox_url
            else []
        ),
        f"  Demo logins (password {DEMO_PASSWORD}):",
        *(f"    {login}" for login in demo_logins()),
        "  Ctrl-C stops everything.",
    ]
    return "\n".join(lines)
