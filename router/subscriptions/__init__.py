"""Subscriptions through the router.

Clients speak graphql-transport-ws or SSE to the router; the router speaks
graphql-transport-ws to the subgraph that owns the root field.
"""

from router.subscriptions.registry import SubscriptionRegistry
from router.subscriptions.routes import subscription_routes

__all__ = ["SubscriptionRegistry", "subscription_routes"]
