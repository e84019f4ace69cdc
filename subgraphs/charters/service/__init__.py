"""Charters' business rules: plain values and a session in, no GraphQL.

One module per concern: references, access (who may do what, as data),
directory (known clients and sales agents), audit, timing, charters
(lifecycle and quotes), itinerary, vehicles, fleet (types, vehicles, drivers,
blackouts, availability), snapshots (what a change case captures and
applies), templates (save and clone), series, change_cases, dispatch.
"""
