"""Subscriptions through the router.

Clients speak graphql-transport-ws, SSE or Apollo's multipart HTTP protocol
(`multipart.py`) to the router; the router speaks graphql-transport-ws to
the subgraph that owns the root field. SSE and multipart share the running
of the stream (`stream.py`) and differ only in framing.
"""

from router.subscriptions.registry import SubscriptionRegistry
from router.subscriptions.routes import subscription_routes

__all__ = ["SubscriptionRegistry", "subscription_routes"]
