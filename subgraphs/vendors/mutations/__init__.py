"""Vendors' mutations, one module per area, merged into one root type."""

from __future__ import annotations

from strawberry.tools import merge_types

from subgraphs.vendors.mutations.assignments import AssignmentMutations
from subgraphs.vendors.mutations.certifications import CertificationMutations
from subgraphs.vendors.mutations.vendors import VendorMutations

AREAS: tuple[type, ...] = (VendorMutations, CertificationMutations, AssignmentMutations)

Mutation = merge_types("Mutation", AREAS)
