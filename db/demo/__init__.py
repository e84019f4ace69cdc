"""Demo data for the embedded stack: loaded once, safe to run again.

Each subgraph has a module here with `async def load(session)`; a module
skips what is already there, so `make run` can call this at every start.
"""

#: Load order: each module may name what an earlier one made. Sales' leads
#: come after charters, because two of them were converted into demo quotes;
#: finance prices the booked charters with pricing's demo price list; dispatch works
#: the charters and vendors demos' tasks; the client portal's demo (issue 14) comes last,
#: on the others' clients, fleet and price list. Tours (issue 15) need no other demo (they
#: add their house client to sales, for the charters that operate their departures).
#: Reports (issue 16) saves the demo manager's dashboard of shipped templates.
ORDER = (
    "identity",
    "sales",
    "charters",
    "vendors",
    "pricing",
    "sales_leads",
    "finance",
    "dispatch",
    "tours",
    "reports",
    "portal",
)
