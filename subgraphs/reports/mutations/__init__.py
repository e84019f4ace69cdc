"""Reports' mutations: one mixin per aggregate, composed here."""

import strawberry

from subgraphs.reports.mutations.dashboards import DashboardsMutations
from subgraphs.reports.mutations.runs import RunsMutations
from subgraphs.reports.mutations.schedules import SchedulesMutations
from subgraphs.reports.mutations.templates import TemplatesMutations


@strawberry.type
class Mutation(TemplatesMutations, RunsMutations, SchedulesMutations, DashboardsMutations):
    pass
