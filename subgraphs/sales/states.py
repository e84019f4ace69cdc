"""Sales' lifecycles as explicit transition tables (the kit's `machine`).

A lead moves forward one step at a time, new -> contacted -> qualified ->
quoted -> converted, and may be lost (with a reason) from any open state.
Converted and lost are final.
"""

from __future__ import annotations

from subgraphs.kit.state_machine import machine

LEAD = machine(
    "lead",
    {
        "new": {"contacted", "lost"},
        "contacted": {"qualified", "lost"},
        "qualified": {"quoted", "lost"},
        "quoted": {"converted", "lost"},
        "converted": set(),
        "lost": set(),
    },
)
#: Statuses a lead can still leave: the pipeline's open part.
OPEN_LEAD_STATUSES = frozenset(s for s in LEAD.states if LEAD.allowed(s))
