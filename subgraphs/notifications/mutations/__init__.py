"""Notifications' mutations: one mixin per aggregate, composed here."""

import strawberry

from subgraphs.notifications.mutations.preferences import PreferenceMutations
from subgraphs.notifications.mutations.templates import TemplateMutations


@strawberry.type
class Mutation(PreferenceMutations, TemplateMutations):
    pass
