"""Sales' lifecycles as explicit transition tables (the kit's `machine`).

A lead moves forward one step at a time, new -> contacted -> qualified ->
quoted, and may be lost (with a reason) from any open state. Any open lead
may be converted, but only by `convertLead` (which creates its client and
charter quote); `setLeadStatus` refuses CONVERTED. Converted and lost are final.
"""

from __future__ import annotations

from subgraphs.kit.state_machine import machine

LEAD = machine(
    "lead",
    {
        "new": {"contacted", "converted", "lost"},
        "contacted": {"qualified", "converted", "lost"},
        "qualified": {"quoted", "converted", "lost"},
        "quoted": {"converted", "lost"},
        "converted": set(),
        "lost": set(),
    },
)
#: Statuses a lead can still leave: the pipeline's open part.
OPEN_LEAD_STATUSES = frozenset(s for s in LEAD.states if LEAD.allowed(s))
