"""Vendors' lifecycles as tables of allowed transitions."""

from __future__ import annotations

from subgraphs.kit.state_machine import machine

VENDOR = machine(
    "vendor",
    {
        "pending": {"active", "rejected"},
        "active": {"suspended", "inactive", "banned"},
        "suspended": {"active", "inactive", "banned"},
        "inactive": {"active", "banned"},
        "rejected": {"pending"},
        "banned": set(),
    },
)

CERTIFICATION = machine(
    "certification",
    {
        # verify (a manager) -> active; reject (a manager, with a reason) -> rejected.
        "pending_verification": {"active", "rejected", "expired"},
        "active": {"expired", "suspended", "revoked"},
        "suspended": {"active", "revoked", "expired"},
        "expired": set(),
        "revoked": set(),
        "rejected": set(),
    },
)

BID = machine(
    "bid",
    {
        "draft": {"submitted", "withdrawn"},
        "submitted": {"accepted", "rejected", "withdrawn", "expired"},
        "accepted": set(),
        "rejected": set(),
        "withdrawn": set(),
        "expired": set(),
    },
)

ASSIGNMENT = machine(
    "vendor assignment",
    {
        "offered": {"confirmed", "declined", "cancelled"},
        "confirmed": {"recovery_requested", "cancelled"},
        "recovery_requested": {"confirmed", "cancelled"},
        "declined": set(),
        "cancelled": set(),
    },
)
