"""Every catalogue mutation and root query, for every role: the expected table is data.

A role not in a row gets a top-level `FORBIDDEN` (anonymous
`UNAUTHENTICATED`); a role in it gets past the gate (whatever the business
rules then say, as `userErrors`). A catalogue field added without a row
fails here. ("anonymous" in a row: no token at all gets past too.)
"""

from __future__ import annotations

import uuid
from typing import Any

import strawberry

from subgraphs.tours.mutations.catalogue import CatalogueMutations
from subgraphs.tours.queries.catalogue import CatalogueQueries
from tests.support.graphql_client import GraphQLClient

ROLES = (
    "admin",
    "manager",
    "dispatcher",
    "sales_agent",
    "sales_support",
    "accounting",
    "client",
    "vendor",
    "driver",
)
ANYONE = {*ROLES, "anonymous"}
CATALOGUE = {"admin", "manager", "dispatcher"}

EXPECTED: dict[str, set[str]] = {
    "tours": ANYONE,
    "tour": ANYONE,
    "departureSlot": ANYONE,
    "tourBlackouts": ANYONE,
    "toursConfig": ANYONE,
    "createTour": CATALOGUE,
    "updateTour": CATALOGUE,
    "createTourSchedule": CATALOGUE,
    "updateTourSchedule": CATALOGUE,
    "generateDepartures": CATALOGUE,
    "updateDepartureSlot": CATALOGUE,
    "cancelDepartureSlot": CATALOGUE,
    "createTourBlackout": CATALOGUE,
    "updateTourBlackout": CATALOGUE,
    "updateToursConfig": {"admin", "manager"},
}


def operations() -> dict[str, tuple[str, dict[str, Any]]]:
    some = str(uuid.uuid4())
    out = "{ __typename userErrors { code } }"
    return {
        "tours": ("{ tours { id } }", {}),
        "tour": ("query($id: ID!) { tour(id: $id) { id } }", {"id": some}),
        "departureSlot": ("query($id: ID!) { departureSlot(id: $id) { id } }", {"id": some}),
        "tourBlackouts": ("{ tourBlackouts { id } }", {}),
        "toursConfig": ("{ toursConfig { cutoffHours } }", {}),
        "createTour": (
            'mutation { createTour(input: {name: "", durationMinutes: 0, basePrice: "1.00"}) '
            f"{out} }}",
            {},
        ),
        "updateTour": (
            f"mutation($id: ID!) {{ updateTour(id: $id, input: {{}}) {out} }}",
            {"id": some},
        ),
        "createTourSchedule": (
            'mutation($id: ID!) { createTourSchedule(input: {tourId: $id, name: "x", '
            'startTime: "09:00", recurrence: DAILY, maxCapacity: 1, validFrom: "2026-01-01"}) '
            f"{out} }}",
            {"id": some},
        ),
        "updateTourSchedule": (
            f"mutation($id: ID!) {{ updateTourSchedule(id: $id, input: {{}}) {out} }}",
            {"id": some},
        ),
        "generateDepartures": (
            'mutation($id: ID!) { generateDepartures(scheduleId: $id, from: "2026-01-01", '
            f'to: "2026-01-02") {out} }}',
            {"id": some},
        ),
        "updateDepartureSlot": (
            f"mutation($id: ID!) {{ updateDepartureSlot(id: $id, input: {{}}) {out} }}",
            {"id": some},
        ),
        "cancelDepartureSlot": (
            f'mutation($id: ID!) {{ cancelDepartureSlot(id: $id, reason: "x") {out} }}',
            {"id": some},
        ),
        "createTourBlackout": (
            'mutation { createTourBlackout(input: {name: "x", blackoutType: HOLIDAY, '
            f'startDate: "2026-01-02", endDate: "2026-01-01"}}) {out} }}',
            {},
        ),
        "updateTourBlackout": (
            f"mutation($id: ID!) {{ updateTourBlackout(id: $id, input: {{}}) {out} }}",
            {"id": some},
        ),
        "updateToursConfig": (
            f"mutation {{ updateToursConfig(input: {{cutoffHours: -1}}) {out} }}",
            {},
        ),
    }


def _names(mixin: type) -> set[str]:
    definition = mixin.__strawberry_definition__  # type: ignore[attr-defined]
    return {
        strawberry.schema.config.StrawberryConfig().name_converter.get_graphql_name(f)
        for f in definition.fields
    }


def test_the_table_names_every_catalogue_mutation_and_query():
    assert (
        _names(CatalogueQueries) | _names(CatalogueMutations) == set(EXPECTED) == set(operations())
    )


async def test_every_catalogue_operation_as_every_role(tours_server, http_client, mint):
    # one test for all roles: the inputs change nothing, so no table is emptied between them
    for role in (*ROLES, None):
        token = await mint(role) if role else None
        caller = GraphQLClient(tours_server.graphql_url, http_client, token)
        for name, (query, variables) in operations().items():
            answer = await caller(query, variables)
            if (role or "anonymous") in EXPECTED[name]:
                assert "FORBIDDEN" not in answer.error_codes, (name, role, answer.body)
                assert "UNAUTHENTICATED" not in answer.error_codes, (name, role, answer.body)
                assert answer.data is not None, (name, role, answer.body)
            elif role is None:
                assert answer.error_codes == ["UNAUTHENTICATED"], (name, answer.body)
            else:
                assert answer.error_codes == ["FORBIDDEN"], (name, role, answer.body)
