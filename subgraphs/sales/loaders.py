"""Sales' dataloaders: one statement per kind of row per request."""

from __future__ import annotations

from subgraphs.kit.loaders import ByIdLoader, ByParentIdLoader
from subgraphs.sales import models


class ClientByIdLoader(ByIdLoader[models.Client]):
    model = models.Client


class ContactsByClientIdLoader(ByParentIdLoader[models.ClientContact]):
    """A client's contacts by name (the type puts the primary first)."""

    model = models.ClientContact
    parent_column = "client_id"
    order_by = ("client_id", "name", "id")
