"""Notifications' mutations: one mixin per aggregate, composed here."""

import strawberry

from subgraphs.notifications.mutations.preferences import PreferenceMutations


@strawberry.type
class Mutation(PreferenceMutations):
    pass
