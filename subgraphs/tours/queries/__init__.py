"""Tours' root queries: one mixin per aggregate, composed here."""

import strawberry

from subgraphs.tours.queries.audit import AuditQueries
from subgraphs.tours.queries.bookings import BookingsQueries
from subgraphs.tours.queries.calendar import CalendarQueries
from subgraphs.tours.queries.catalogue import CatalogueQueries
from subgraphs.tours.queries.waitlist import WaitlistQueries


@strawberry.type
class Query(CatalogueQueries, BookingsQueries, WaitlistQueries, CalendarQueries, AuditQueries):
    pass
