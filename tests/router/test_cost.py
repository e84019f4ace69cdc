"""Demand control: `@cost`/`@listSize` priced by the specification, refused and reported.

Units price the specification's cases on a small annotated schema; one
router over HTTP, in front of a real (small) subgraph, refuses an operation
over its budget with the estimate and reports estimated and actual cost.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import DocumentNode, GraphQLSchema, OperationDefinitionNode, build_schema, parse

from router.config import load_config
from router.guard.cost import CostTable, actual_cost, read_costs
from router.guard.limits import Limits, check_limits, measure
from router.supergraph.load import load_supergraph
from subgraphs.kit.settings import PROJECT_ROOT
from tests.router_edge.router_harness import router
from tests.router_edge.security_harness import SUPERGRAPH_SDL, Charters, charters_subgraph

DIRECTIVES = """
directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION
  | INPUT_FIELD_DEFINITION | OBJECT | SCALAR
directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!],
  requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION
"""

SDL = (
    DIRECTIVES
    + """
type Query {
  books(first: Int, last: Int): [Book!]!
    @listSize(slicingArguments: ["first", "last"], requireOneSlicingArgument: false)
  shelf(first: Int = 4): BookConnection!
    @listSize(slicingArguments: ["first"], sizedFields: ["edges"], requireOneSlicingArgument: false)
  authors: [Author!]! @listSize(assumedSize: 3)
  unsized: [Author!]!
  report: Report!
  search(term: String @cost(weight: 5), filter: Filter): [Book!]! @listSize(assumedSize: 2)
  title: String
  priced: Int @cost(weight: 7)
}
type Mutation { addBook(title: String): Book }
type Book { id: ID! title: String pages: Int @cost(weight: 2) authors: [Author!]! @listSize(assumedSize: 2) }
type Author { name: String books: [Book!]! @listSize(assumedSize: 5) }
type BookConnection { edges: [BookEdge!]! total: Int }
type BookEdge { cursor: String node: Book! }
type Report @cost(weight: 50) { rows: Int }
input Filter { deep: Boolean @cost(weight: 20) year: Int }
"""
)


@pytest.fixture(scope="module")
def annotated() -> tuple[GraphQLSchema, CostTable]:
    return build_schema(SDL), read_costs(parse(SDL))


def cost(pair: tuple[GraphQLSchema, CostTable], q: str, variables: Any = None) -> int:
    schema, table = pair
    m = measure(parse(q), None, schema, variables, None, table)
    assert m is not None
    return m.cost


def test_scalars_and_enums_weigh_nothing_objects_one(
    annotated: tuple[GraphQLSchema, CostTable],
) -> None:
    assert cost(annotated, "{ title }") == 0
    assert cost(annotated, "{ __typename title priced }") == 7
    assert cost(annotated, "{ authors { name } }") == 3 * 1


def test_slicing_arguments_size_the_list(annotated: tuple[GraphQLSchema, CostTable]) -> None:
    assert cost(annotated, "{ books(first: 5) { id } }") == 5
    assert cost(annotated, "{ books(last: 2) { id } }") == 2
    # both given: the larger
    assert cost(annotated, "{ books(first: 5, last: 8) { id } }") == 8
    assert cost(annotated, "query($n: Int) { books(first: $n) { id } }", {"n": 30}) == 30
    # none given: no assumed size, so the router's default list size
    assert cost(annotated, "{ books { id } }") == Limits().default_list_size


def test_sized_fields_take_the_connections_slicing_argument(
    annotated: tuple[GraphQLSchema, CostTable],
) -> None:
    # the connection 1, each edge 1 + its node 1
    assert (
        cost(annotated, "{ shelf(first: 6) { total edges { cursor node { id } } } }") == 1 + 6 * 2
    )
    # the argument's default when none is given
    assert cost(annotated, "{ shelf { edges { node { id } } } }") == 1 + 4 * 2


def test_assumed_sizes_and_nested_lists_multiply(
    annotated: tuple[GraphQLSchema, CostTable],
) -> None:
    # 3 authors x (1 + 5 books x (1 + 2 authors x 1))
    assert cost(annotated, "{ authors { books { authors { name } } } }") == 3 * (1 + 5 * (1 + 2))
    # without @listSize, the router's default list size
    assert cost(annotated, "{ unsized { name } }") == 10


def test_weights_on_fields_types_and_arguments(annotated: tuple[GraphQLSchema, CostTable]) -> None:
    assert cost(annotated, "{ books(first: 3) { pages } }") == 3 * (1 + 2)
    assert cost(annotated, "{ report { rows } }") == 50
    # an argument's weight once, when given; the list of 2 books as usual
    assert cost(annotated, '{ search(term: "x") { id } }') == 5 + 2
    assert cost(annotated, "{ search { id } }") == 2
    # an input field's weight when that field is given, literal or by variable
    assert cost(annotated, "{ search(filter: {deep: true}) { id } }") == 20 + 2
    q = "query($f: Filter) { search(filter: $f) { id } }"
    assert cost(annotated, q, {"f": {"year": 2020}}) == 2
    assert cost(annotated, q, {"f": {"deep": False, "year": 1}}) == 20 + 2


def test_a_mutation_adds_ten(annotated: tuple[GraphQLSchema, CostTable]) -> None:
    assert cost(annotated, 'mutation { addBook(title: "x") { id } }') == 10 + 1


def test_an_unannotated_schema_is_priced_as_before() -> None:
    # the same schema, its directives renamed to ones demand control does not know
    plain = SDL.replace("@cost", "@weightless").replace("@listSize", "@sizeless")
    schema = build_schema(plain)
    table = read_costs(parse(plain))
    assert not table.annotated
    # every field 1 (scalars too), lists by first/last/limit or 10, as the router always did
    assert cost((schema, table), "{ title }") == 1
    assert cost((schema, table), "{ books(first: 5) { id title } }") == 5 * 3
    errors = check_limits(
        parse("{ books(first: 300) { authors { books { id } } } }"), None, schema, None, None, table
    )
    assert [e["extensions"]["code"] for e in errors] == ["OPERATION_TOO_COSTLY"]


def test_over_budget_is_refused_with_the_estimate(
    annotated: tuple[GraphQLSchema, CostTable],
) -> None:
    schema, table = annotated
    q = "{ books(first: 100) { authors { books { id } } } }"
    errors = check_limits(parse(q), None, schema, None, Limits(max_cost=500), table)
    assert errors == [
        {
            "message": "Operation is too costly: estimated cost 1300 exceeds the limit of 500.",
            "extensions": {
                "code": "COST_ESTIMATED_TOO_EXPENSIVE",
                "cost": {"estimated": 100 * (1 + 2 * (1 + 5)), "max": 500},
            },
        }
    ]
    assert check_limits(parse(q), None, schema, None, Limits(max_cost=1300), table) == []


def _op(doc: DocumentNode) -> OperationDefinitionNode:
    (op,) = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]
    return op


def test_actual_cost_counts_the_lists_returned(annotated: tuple[GraphQLSchema, CostTable]) -> None:
    schema, table = annotated
    doc = parse(
        "{ a: authors { name ...B } shelf(first: 50) { edges { node { id } } } }"
        " fragment B on Author { books { pages } }"
    )
    data = {
        "a": [{"name": "x", "books": [{"pages": 1}, {"pages": 2}]}, {"name": "y", "books": []}],
        "shelf": {"edges": [{"node": {"id": "1"}}]},
    }
    # 2 authors (1 each) with 2 + 0 books (1 + pages 2 each); the page of one edge (1 + node 1)
    assert actual_cost(doc, _op(doc), schema, table, data) == 2 + 2 * 3 + 1 + 2
    assert actual_cost(doc, _op(doc), schema, table, None) == 0


def test_the_supergraph_keeps_the_subgraphs_annotations() -> None:
    sg = load_supergraph((PROJECT_ROOT / "schema" / "supergraph.graphql").read_text())
    rule = sg.costs.list_sizes[("Query", "charters")]
    assert (rule.slicing_arguments, rule.sized_fields) == (("first",), ("edges",))
    assert ("Query", "vendors") in sg.costs.list_sizes
    assert ("Query", "dispatchBoard") in sg.costs.list_sizes
    assert sg.costs.fields[("Query", "vehicleUtilisation")] == 50
    assert sg.costs.fields[("Query", "bidAnalytics")] == 50
    q = "{ charters(first: 100) { totalCount edges { node { id reference } } } }"
    m = measure(parse(q), None, sg.api_schema, None, None, sg.costs)
    assert m is not None
    assert m.cost == 1 + 100 * 2


# -- through a real router ----------------------------------------------------------------------

ANNOTATED_SUPERGRAPH = (
    SUPERGRAPH_SDL.replace(
        '@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY) {',
        '@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)\n'
        '  @link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@cost", "@listSize"]) {',
    )
    .replace(
        "charters(first: Int, after: String): CharterConnection!",
        "charters(first: Int = 10, after: String): CharterConnection!"
        ' @listSize(slicingArguments: ["first"], sizedFields: ["edges"],'
        " requireOneSlicingArgument: false)",
    )
    .replace(
        "reference: String! stops: [Stop!]!",
        "reference: String! @cost(weight: 2) stops: [Stop!]! @listSize(assumedSize: 5)",
    )
    + DIRECTIVES
)

PAGE = "query($n: Int) { charters(first: $n) { edges { node { id reference stops { name } } } } }"


def _estimate(n: int) -> int:
    # the connection, then per edge: edge 1 + node 1 + reference 2 + 5 stops x 1
    return 1 + n * (1 + 1 + 2 + 5)


def _write(directory: Path, url: str) -> Path:
    path = directory / "supergraph.graphql"
    path.write_text(ANNOTATED_SUPERGRAPH.replace("{url}", url))
    return path


@pytest.fixture(scope="module")
async def charters() -> AsyncIterator[Charters]:
    async with charters_subgraph() as s:
        yield s


@pytest.fixture(scope="module")
async def endpoint(
    charters: Charters, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    path = _write(tmp_path_factory.mktemp("cost"), charters.url)
    config = load_config(
        ["--supergraph", str(path)], {"ROUTER_MAX_COST": "100", "ROUTER_JWKS_URL": ""}
    )
    async with router(config) as server:
        yield server.graphql_url


async def test_router_refuses_over_budget_and_reports_cost_when_asked(
    endpoint: str, charters: Charters
) -> None:
    charters.clear()
    async with httpx.AsyncClient(timeout=10) as http:
        refused = (await http.post(endpoint, json={"query": PAGE, "variables": {"n": 20}})).json()
        assert refused["errors"][0]["extensions"] == {
            "code": "COST_ESTIMATED_TOO_EXPENSIVE",
            "cost": {"estimated": _estimate(20), "max": 100},
        }
        assert "data" not in refused
        assert charters.bodies == []  # never reached the subgraph

        plain = (await http.post(endpoint, json={"query": PAGE, "variables": {"n": 3}})).json()
        assert "extensions" not in plain
        assert len(plain["data"]["charters"]["edges"]) == 3

        asked = (
            await http.post(
                endpoint,
                json={"query": PAGE, "variables": {"n": 3}, "extensions": {"cost": True}},
            )
        ).json()
    assert asked["data"] == plain["data"]
    # the subgraph returns 2 stops per charter, not the 5 assumed
    assert asked["extensions"]["cost"] == {
        "estimated": _estimate(3),
        "actual": 1 + 3 * (1 + 1 + 2 + 2),
    }
