"""The operations both routers answer: hand-written ones, then generated ones.

Hand-written operations cover what the generator does not spell: variables,
`@skip`/`@include`, nested named fragments, `@requires` and `@provides`
paths chosen on purpose, a failing subgraph field, a subgraph that is down,
a not-found entity, and (invalid) an `@inaccessible` field. Generated ones
come from `generate.py` over the API schema of the same supergraph.
"""

from __future__ import annotations

from pathlib import Path

from tests.router_diff.api_schema import api_schema
from tests.router_diff.generate import Operation, path_operations, random_operations

SUPERGRAPH_TEMPLATE = (
    Path(__file__).resolve().parents[1] / "router" / "fixtures" / "supergraph.graphql"
)

#: argument values for the generator ("Type.field.argument" -> values)
ARGUMENTS = {"Query.charter.id": ["c1", "c3", "missing"]}
DEPTH = 4
RANDOM_COUNT = 120

HAND_WRITTEN = [
    Operation(
        "entity-chain-three-subgraphs",
        "{ charters { reference vehicles { capacity vendor { name certifications { type number } } } } }",
    ),
    Operation("requires", "{ charters { id quote { total } } }"),
    Operation("requires-without-key-selected", "{ charters { quote { total } } }"),
    Operation("provides", "{ charters { client { name } } }"),
    Operation("provides-and-beyond", "{ charters { client { id name creditLimit } } }"),
    Operation("interface-object", "{ documents { __typename id title archived } }"),
    Operation(
        "interface-concrete-fragments",
        "{ documents { title ... on InsuranceDoc { insurer archived } ... on DotDoc { dotNumber } } }",
    ),
    Operation(
        "union-with-entity-jump",
        "{ search { __typename ... on Vendor { name rating } ... on CharterVehicle { id capacity vendor { name } } } }",
    ),
    Operation(
        "variables",
        "query Q($id: ID!) { charter(id: $id) { reference quote { total } } }",
        {"id": "c3"},
    ),
    Operation(
        "variables-not-found",
        "query Q($id: ID!) { charter(id: $id) { reference vehicles { vendor { name } } } }",
        {"id": "nope"},
    ),
    Operation(
        "skip-include",
        "query Q($yes: Boolean!, $no: Boolean!) { charters { reference @include(if: $yes) "
        "quote @skip(if: $no) { total } client @include(if: $no) { name } "
        "vehicles @skip(if: $yes) { id } } }",
        {"yes": True, "no": False},
    ),
    Operation(
        "skip-include-on-fragments",
        "query Q($on: Boolean!) { documents { ... on DotDoc @include(if: $on) { dotNumber } "
        "...Ins @skip(if: $on) } } fragment Ins on InsuranceDoc { insurer }",
        {"on": True},
    ),
    Operation(
        "nested-named-fragments",
        "{ charters { ...C } } fragment C on Charter { reference vehicles { ...V } quote { total } } "
        "fragment V on CharterVehicle { capacity vendor { ...Ven } } fragment Ven on Vendor { name id }",
    ),
    Operation(
        "same-field-merged-from-fragments",
        "{ charters { vehicles { id } ...A ...B } } fragment A on Charter { vehicles { capacity } } "
        "fragment B on Charter { vehicles { vendor { name } } }",
    ),
    Operation("failing-field-nulls-up", "{ vendors { name rating } }"),
    Operation("failing-field-deep", "{ charters { vehicles { vendor { rating } } } }"),
    Operation("subgraph-down", "{ charters { reference balance } }"),
    Operation("subgraph-down-only", '{ charter(id: "c1") { balance } }'),
    Operation("operation-name", "query A { pricingVersion } query B { clients { name } }", None),
    Operation("typename-root", "{ __typename pricingVersion }"),
    Operation("inaccessible-field-is-invalid", "{ charters { internalNote } }"),
    Operation("unknown-field-is-invalid", "{ charters { nope } }"),
    Operation(
        "mutations-in-order",
        'mutation { a: rename(id: "missing", reference: "x") { reference } '
        'b: renameClient(id: "missing", name: "y") { name } }',
    ),
]

#: Operations Hive Gateway 2.15.1 answers wrongly, each mapped to an
#: equivalent spelling it answers right: Hive's answer to that one is the
#: reference. A named fragment selecting `archived` (the field pricing adds to
#: Document through @interfaceObject) makes Hive answer `data: null` with
#: "Unexpected error." (INTERNAL_SERVER_ERROR); the same field selected
#: directly or in an inline fragment works. Our answers were checked by hand
#: against the subgraphs' data (d1 not archived, d2 archived).
HIVE_WRONG = {
    "fragment:documents.archived": "plain:documents.archived",
    "fragment:documents.DotDoc:archived": "plain:documents.DotDoc:archived",
    "fragment:documents.InsuranceDoc:archived": "plain:documents.InsuranceDoc:archived",
}

#: operation name sent with each operation that has several
OPERATION_NAMES = {"operation-name": "B"}


def all_operations() -> list[Operation]:
    schema = api_schema(SUPERGRAPH_TEMPLATE.read_text())
    generated = [
        *path_operations(schema, ARGUMENTS, DEPTH),
        *random_operations(schema, ARGUMENTS, DEPTH, RANDOM_COUNT),
    ]
    return [*HAND_WRITTEN, *generated]
