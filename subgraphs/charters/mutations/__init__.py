"""Charters' mutations, one module per area, merged into one root type."""

from __future__ import annotations

from strawberry.tools import merge_types

from subgraphs.charters.mutations.acceptance import AcceptanceMutations
from subgraphs.charters.mutations.cancellation import CancellationMutations
from subgraphs.charters.mutations.change_cases import ChangeCaseMutations
from subgraphs.charters.mutations.charters import CharterMutations
from subgraphs.charters.mutations.contacts import ContactMutations
from subgraphs.charters.mutations.dispatch import DispatchMutations
from subgraphs.charters.mutations.documents import DocumentMutations
from subgraphs.charters.mutations.driver_app import DriverAppMutations
from subgraphs.charters.mutations.fleet import FleetMutations
from subgraphs.charters.mutations.instructions import InstructionMutations
from subgraphs.charters.mutations.itinerary import ItineraryMutations
from subgraphs.charters.mutations.portals import PortalMutations
from subgraphs.charters.mutations.positions import PositionMutations
from subgraphs.charters.mutations.recovery import RecoveryMutations
from subgraphs.charters.mutations.route import RouteMutations
from subgraphs.charters.mutations.series import SeriesMutations
from subgraphs.charters.mutations.split import SplitMutations
from subgraphs.charters.mutations.tasks import TaskMutations
from subgraphs.charters.mutations.templates import TemplateMutations
from subgraphs.charters.mutations.vehicles import VehicleMutations

AREAS: tuple[type, ...] = (
    CharterMutations,
    ItineraryMutations,
    VehicleMutations,
    FleetMutations,
    DispatchMutations,
    ChangeCaseMutations,
    SplitMutations,
    TemplateMutations,
    SeriesMutations,
    PortalMutations,
    TaskMutations,
    PositionMutations,
    RecoveryMutations,
    DriverAppMutations,
    ContactMutations,
    InstructionMutations,
    CancellationMutations,
    RouteMutations,
    DocumentMutations,
    AcceptanceMutations,
)

Mutation = merge_types("Mutation", AREAS)
