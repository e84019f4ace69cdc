"""Notifications' GraphQL types, one module per aggregate: thin views; who reads what is `service/access.py`."""

from subgraphs.notifications.types.messages import Charter, Lead, NotificationMessage
from subgraphs.notifications.types.preferences import Client, NotificationPreferences, User
from subgraphs.notifications.types.templates import NotificationKind, NotificationTemplate

__all__ = [
    "Charter",
    "Client",
    "Lead",
    "NotificationKind",
    "NotificationMessage",
    "NotificationPreferences",
    "NotificationTemplate",
    "User",
]
