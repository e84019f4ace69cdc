"""Notifications' GraphQL types, one module per aggregate: thin views; who reads what is `service/access.py`."""

from subgraphs.notifications.types.preferences import Client, NotificationPreferences, User

__all__ = ["Client", "NotificationPreferences", "User"]
