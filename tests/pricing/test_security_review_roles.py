"""Every pricing mutation and root query, for every role: the expected role table is data.

A role not in a mutation's row gets a top-level `FORBIDDEN` (anonymous
`UNAUTHENTICATED`); a role in it gets past the gate (whatever the business
rules then say, as `userErrors`). Queries the same way, except the public
calculator, which answers anyone. A field added without a row fails here.
The rows restate `subgraphs/pricing/service/access.py` by hand on purpose:
a change to the policy must be a change to this table too.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from subgraphs.pricing.app import schema
from tests.support.graphql_client import GraphQLClient
from tests.support.roles import ROLES

EDIT_PRICE_LIST = {"admin", "manager"}
PRICE_QUOTES = {"admin", "manager", "sales_support", "sales_agent"}
READ_PRICE_LIST = {*PRICE_QUOTES, "accounting"}
STAFF = {"admin", "manager", "sales_agent", "sales_support", "dispatcher", "accounting"}
SIGNED_IN = set(ROLES)
ANYONE = {*ROLES, None}

EXPECTED: dict[str, set[str]] = {
    "createPricingRule": EDIT_PRICE_LIST,
    "updatePricingRule": EDIT_PRICE_LIST,
    "createPromoCode": EDIT_PRICE_LIST,
    "updatePromoCode": EDIT_PRICE_LIST,
    "setPromoCodeActive": EDIT_PRICE_LIST,
    "saveAmenity": EDIT_PRICE_LIST,
    "savePricingModifier": EDIT_PRICE_LIST,
    "saveHub": EDIT_PRICE_LIST,
    "setHoursOfServiceRules": EDIT_PRICE_LIST,
    "applyPromoCode": PRICE_QUOTES,
    "removePromoCode": PRICE_QUOTES,
    "addCharterAmenity": PRICE_QUOTES,
    "removeCharterAmenity": PRICE_QUOTES,
}

#: Who may ask each root query (None: anonymous).
EXPECTED_QUERIES: dict[str, set[str | None]] = {
    "pricingRules": READ_PRICE_LIST,
    "pricingRule": READ_PRICE_LIST,
    "promoCodes": READ_PRICE_LIST,
    "pricingModifiers": READ_PRICE_LIST,
    "hubs": READ_PRICE_LIST,
    "hoursOfServiceRules": READ_PRICE_LIST,
    "recommendVehicles": READ_PRICE_LIST,
    "quoteHistory": STAFF,
    "amenities": SIGNED_IN,
    "estimateQuote": ANYONE,
}
#: Federation's own fields: the router's, answered per entity (see test_quotes*.py).
FEDERATION = {"_entities", "_service"}


def operations() -> dict[str, tuple[str, dict[str, Any]]]:
    """One call per mutation with harmless arguments (unknown ids, invalid input)."""
    out = "{ __typename userErrors { field code } }"
    some = str(uuid.uuid4())
    return {
        "createPricingRule": (
            f'mutation {{ createPricingRule(input: {{name: "X", type: BASE_RATE}}) {out} }}',
            {},
        ),
        "updatePricingRule": (
            f'mutation($id: ID!) {{ updatePricingRule(id: $id, input: {{value: "1"}}) {out} }}',
            {"id": some},
        ),
        "createPromoCode": (
            f'mutation {{ createPromoCode(input: {{code: " "}}) {out} }}',
            {},
        ),
        "updatePromoCode": (
            f'mutation($id: ID!) {{ updatePromoCode(id: $id, input: {{value: "5"}}) {out} }}',
            {"id": some},
        ),
        "setPromoCodeActive": (
            f"mutation($id: ID!) {{ setPromoCodeActive(id: $id, active: false) {out} }}",
            {"id": some},
        ),
        "saveAmenity": (
            f'mutation {{ saveAmenity(input: {{name: " "}}) {out} }}',
            {},
        ),
        "savePricingModifier": (
            f'mutation {{ savePricingModifier(input: {{name: "X"}}) {out} }}',
            {},
        ),
        "saveHub": (
            f'mutation {{ saveHub(input: {{code: "X"}}) {out} }}',
            {},
        ),
        "setHoursOfServiceRules": (
            f'mutation {{ setHoursOfServiceRules(input: {{maxDrivingHours: "-1"}}) {out} }}',
            {},
        ),
        "applyPromoCode": (
            f'mutation($id: ID!) {{ applyPromoCode(charterId: $id, code: "NONE") {out} }}',
            {"id": some},
        ),
        "removePromoCode": (
            f"mutation($id: ID!) {{ removePromoCode(charterId: $id) {out} }}",
            {"id": some},
        ),
        "addCharterAmenity": (
            f"mutation($id: ID!) {{ addCharterAmenity(charterId: $id, amenityId: $id) {out} }}",
            {"id": some},
        ),
        "removeCharterAmenity": (
            f"mutation($id: ID!) {{ removeCharterAmenity(charterId: $id, amenityId: $id) {out} }}",
            {"id": some},
        ),
    }


def queries() -> dict[str, tuple[str, dict[str, Any]]]:
    """One call per root query, valid for a reader who may ask it."""
    some = str(uuid.uuid4())
    return {
        "pricingRules": ("{ pricingRules { totalCount } }", {}),
        "pricingRule": ("query($id: ID!) { pricingRule(id: $id) { id } }", {"id": some}),
        "promoCodes": ("{ promoCodes { totalCount } }", {}),
        "pricingModifiers": ("{ pricingModifiers { id } }", {}),
        "hubs": ("{ hubs { id } }", {}),
        "hoursOfServiceRules": ("{ hoursOfServiceRules { maxDrivingHours } }", {}),
        "recommendVehicles": (
            "{ recommendVehicles(passengers: 10, tripType: ONE_WAY) { count } }",
            {},
        ),
        "quoteHistory": (
            "query($id: ID!) { quoteHistory(charterId: $id) { totalCount } }",
            {"id": some},
        ),
        "amenities": ("{ amenities { id } }", {}),
        "estimateQuote": (
            """{ estimateQuote(input: {tripType: ONE_WAY, pickupLocal: "2026-12-02T09:00:00",
              passengers: 10, miles: "10"}) { total } }""",
            {},
        ),
    }


def test_the_tables_name_every_mutation_and_query_of_the_schema():
    mutations = set(schema._schema.mutation_type.fields)  # type: ignore[union-attr]
    roots = set(schema._schema.query_type.fields) - FEDERATION
    assert mutations == set(EXPECTED) == set(operations())
    assert roots == set(EXPECTED_QUERIES) == set(queries())


async def _caller(role: str | None, pricing_as: Any, pricing_server: Any, http: Any) -> Any:
    if role is None:
        return GraphQLClient(pricing_server.graphql_url, http)
    return await pricing_as(role, client_id=uuid.uuid4() if role == "client" else None)


@pytest.mark.parametrize("role", [*ROLES, None])
async def test_every_mutation_as_every_role(role, pricing_as, pricing_server, http_client):
    caller = await _caller(role, pricing_as, pricing_server, http_client)
    for name, (query, variables) in operations().items():
        answer = await caller(query, variables)
        if role is None:
            assert answer.error_codes == ["UNAUTHENTICATED"], (name, answer.body)
        elif role in EXPECTED[name]:
            assert answer.errors == [], (name, role, answer.body)
            assert answer.data[name]["userErrors"], (name, role)  # refused by the rules
        else:
            assert answer.error_codes == ["FORBIDDEN"], (name, role, answer.body)
            assert answer.data is None or answer.data.get(name) is None


@pytest.mark.parametrize("role", [*ROLES, None])
async def test_every_root_query_as_every_role(
    role, pricing_as, pricing_server, http_client, vehicle_type
):
    await vehicle_type()  # something for the calculator to recommend
    caller = await _caller(role, pricing_as, pricing_server, http_client)
    for name, (query, variables) in queries().items():
        answer = await caller(query, variables)
        if role in EXPECTED_QUERIES[name]:
            assert answer.errors == [], (name, role, answer.body)
            assert name in answer.data, (name, role)
        elif role is None:
            assert answer.error_codes == ["UNAUTHENTICATED"], (name, answer.body)
        else:
            assert answer.error_codes == ["FORBIDDEN"], (name, role, answer.body)
