"""Reports' root queries: one mixin per aggregate, composed here."""

import strawberry

from subgraphs.reports.queries.dashboards import DashboardsQueries
from subgraphs.reports.queries.runs import RunsQueries
from subgraphs.reports.queries.schedules import SchedulesQueries
from subgraphs.reports.queries.templates import TemplatesQueries


@strawberry.type
class Query(TemplatesQueries, RunsQueries, SchedulesQueries, DashboardsQueries):
    pass
