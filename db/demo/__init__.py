"""Demo data for the embedded stack: loaded once, safe to run again.

Each subgraph has a module here with `async def load(session)`; a module
skips what is already there, so `make run` can call this at every start.
"""
