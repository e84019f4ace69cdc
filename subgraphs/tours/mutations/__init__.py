"""Tours' mutations: one mixin per aggregate, composed here."""

import strawberry

from subgraphs.tours.mutations.bookings import BookingsMutations
from subgraphs.tours.mutations.catalogue import CatalogueMutations
from subgraphs.tours.mutations.waitlist import WaitlistMutations


@strawberry.type
class Mutation(CatalogueMutations, BookingsMutations, WaitlistMutations):
    pass
