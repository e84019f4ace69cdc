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
        # under_review: staff are looking at it (both seeds); still decided as submitted.
        "submitted": {"under_review", "accepted", "rejected", "withdrawn", "expired"},
        "under_review": {"accepted", "rejected", "withdrawn", "expired"},
        "accepted": set(),
        "rejected": set(),
        "withdrawn": set(),
        "expired": set(),
    },
)

#: Bids still open for a decision: they compete, rank and expire.
LIVE_BIDS = ("submitted", "under_review")

ASSIGNMENT = machine(
    "vendor assignment",
    {
        "offered": {"confirmed", "declined", "cancelled"},
        # in_progress and completed follow the trip (charters' events), never a person;
        # confirmed -> completed when the trip's end is heard without its start.
        "confirmed": {"recovery_requested", "cancelled", "in_progress", "completed"},
        "recovery_requested": {"confirmed", "cancelled"},
        "in_progress": {"completed", "cancelled"},
        "declined": set(),
        "cancelled": set(),
        "completed": set(),
    },
)
