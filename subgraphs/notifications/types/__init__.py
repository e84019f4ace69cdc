"""Notifications' GraphQL types, one module per aggregate: thin views; who reads what is `service/access.py`."""

from subgraphs.notifications.types.messages import Charter, Lead, NotificationMessage
from subgraphs.notifications.types.preferences import Client, NotificationPreferences, User

__all__ = ["Charter", "Client", "Lead", "NotificationMessage", "NotificationPreferences", "User"]
