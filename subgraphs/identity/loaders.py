from __future__ import annotations

from subgraphs.identity.models import User
from subgraphs.kit.loaders import ByIdLoader, ByParentIdLoader


class UserByIdLoader(ByIdLoader[User]):
    model = User


class PortalUsersByClientIdLoader(ByParentIdLoader[User]):
    """A client company's portal accounts (tokens carry their `client_id`), by name."""

    model = User
    parent_column = "client_id"
    order_by = ("client_id", "name", "id")
