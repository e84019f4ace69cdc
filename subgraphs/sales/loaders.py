"""Sales' dataloaders: one statement per kind of row per request."""

from __future__ import annotations

from subgraphs.kit.loaders import ByIdLoader, ByParentIdLoader
from subgraphs.kit.pages_by_parent import PagesByParentLoader
from subgraphs.sales import models


class ClientByIdLoader(ByIdLoader[models.Client]):
    model = models.Client


class ContactsByClientIdLoader(ByParentIdLoader[models.ClientContact]):
    """A client's contacts by name (the type puts the primary first)."""

    model = models.ClientContact
    parent_column = "client_id"
    order_by = ("client_id", "name", "id")


class LeadByIdLoader(ByIdLoader[models.Lead]):
    model = models.Lead


class ActivitiesPageByLeadIdLoader(PagesByParentLoader):
    """`Lead.activities`, newest first, for every lead of a request at once."""

    model = models.LeadActivity
    parent_column = "lead_id"
    order_by = ("at", "id")
    descending = True
