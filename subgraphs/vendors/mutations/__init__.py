"""Vendors' mutations, one module per area, merged into one root type."""

from __future__ import annotations

from strawberry.tools import merge_types

from subgraphs.vendors.mutations.assignments import AssignmentMutations
from subgraphs.vendors.mutations.bids import BidMutations
from subgraphs.vendors.mutations.certifications import CertificationMutations
from subgraphs.vendors.mutations.documents import DocumentMutations
from subgraphs.vendors.mutations.onboarding import OnboardingMutations
from subgraphs.vendors.mutations.ratings import RatingMutations
from subgraphs.vendors.mutations.vendors import VendorMutations

AREAS: tuple[type, ...] = (
    VendorMutations,
    CertificationMutations,
    DocumentMutations,
    AssignmentMutations,
    BidMutations,
    RatingMutations,
    OnboardingMutations,
)

Mutation = merge_types("Mutation", AREAS)
