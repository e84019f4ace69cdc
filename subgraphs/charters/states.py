"""Charters' lifecycles as tables of allowed transitions."""

from __future__ import annotations

from subgraphs.kit.state_machine import machine

CHARTER = machine(
    "charter",
    {
        "quote": {"booked", "cancelled"},
        "booked": {"confirmed", "cancelled"},
        "confirmed": {"in_progress", "cancelled"},
        "in_progress": {"completed"},
        "completed": set(),
        "cancelled": set(),
    },
)

CHARTER_VEHICLE = machine(
    "charter vehicle",
    {
        "pending": {"assigned"},
        "assigned": {"pending", "confirmed"},
        "confirmed": {"assigned", "en_route"},
        "en_route": {"completed"},
        "completed": set(),
    },
)

DISPATCH = machine(
    "dispatch",
    {
        "not_ready": {"ready", "issue"},
        "ready": {"not_ready", "dispatched", "issue"},
        "dispatched": {"in_transit", "issue"},
        "in_transit": {"on_site", "issue"},
        "on_site": {"in_transit", "completed", "issue"},
        "issue": {"not_ready", "ready", "dispatched", "in_transit", "on_site"},
        "completed": set(),
    },
)

#: Readiness tasks (issue 13): a dispatcher starts, completes or skips (with a
#: reason) an open task, and reopens a closed one; a task also completes itself
#: when its condition turns true (`service/tasks.satisfy`).
TASK = machine(
    "task",
    {
        "pending": {"in_progress", "completed", "skipped"},
        "in_progress": {"pending", "completed", "skipped"},
        "completed": {"pending"},
        "skipped": {"pending"},
    },
)

CHANGE_CASE = machine(
    "change case",
    {
        # Seed 002: a pending case is reviewed before it is approved (an
        # auto-approval rule opens a case approved instead, `change_cases`).
        "pending": {"under_review", "cancelled"},
        "under_review": {
            "vendor_quoted",
            "awaiting_client_approval",
            "approved",
            "rejected",
            "cancelled",
        },
        "vendor_quoted": {"awaiting_client_approval", "approved", "rejected", "cancelled"},
        "awaiting_client_approval": {"approved", "rejected", "cancelled"},
        "approved": {"implemented", "cancelled"},
        "implemented": set(),
        # Seed 002: a rejected case may still be cancelled (closing it for good).
        "rejected": {"cancelled"},
        "cancelled": set(),
    },
)

#: A charter vehicle's recovery (issue 13 section 3). `not_needed` is the vehicle's
#: state with no open case; a case opens `pending`. A driver case never searches
#: vendors (pending -> resolved); a replacement vendor that declines too sends
#: the case back to the search.
RECOVERY = machine(
    "recovery",
    {
        "not_needed": {"pending"},
        "pending": {"vendor_search", "resolved"},
        "vendor_search": {"vendor_assigned", "resolved"},
        "vendor_assigned": {"vendor_search", "resolved"},
        "resolved": set(),
    },
)

#: Statuses in which a charter's content is frozen: changes go through a case.
CHANGE_CONTROLLED = frozenset({"booked", "confirmed", "in_progress"})
#: Statuses that still hold vehicles and drivers.
HOLDING = frozenset({"quote", "booked", "confirmed", "in_progress"})
