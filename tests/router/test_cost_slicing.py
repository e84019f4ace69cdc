"""`@listSize(requireOneSlicingArgument:)`: exactly one slicing argument, or the operation is refused.

Units on a small annotated schema cover what counts as given (a literal,
a variable the request sets, the argument's default, an input field of
one) and what does not (nothing, an explicit null, a variable left out or
set to null). The project's own supergraph is checked so no portal query
is refused by it, and one router over HTTP refuses before any fetch.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import GraphQLSchema, build_schema, parse

from router.config import load_config
from router.guard.cost import SLICING_CODE, CostTable, read_costs
from router.guard.limits import Limits, check_limits, measure
from router.supergraph.load import load_supergraph
from subgraphs.kit.settings import PROJECT_ROOT
from tests.router.test_cost import DIRECTIVES
from tests.router_edge.router_harness import router
from tests.router_edge.security_harness import SUPERGRAPH_SDL, Charters, charters_subgraph

SDL = (
    DIRECTIVES
    + """
type Query {
  users(first: Int, last: Int): [User!]! @listSize(slicingArguments: ["first", "last"])
  paged(first: Int = 10): [User!]! @listSize(slicingArguments: ["first"])
  filtered(filter: Filter): [User!]! @listSize(slicingArguments: ["filter.max"])
  defaulted(filter: Defaulted): [User!]! @listSize(slicingArguments: ["filter.max"])
  lenient(first: Int, last: Int): [User!]!
    @listSize(slicingArguments: ["first", "last"], requireOneSlicingArgument: false)
  sized: [User!]! @listSize(assumedSize: 3)
  me: User
}
type User { name: String friends(first: Int): [User!]! @listSize(slicingArguments: ["first"]) }
input Filter { max: Int active: Boolean }
input Defaulted { max: Int = 5 }
"""
)


@pytest.fixture(scope="module")
def annotated() -> tuple[GraphQLSchema, CostTable]:
    return build_schema(SDL), read_costs(parse(SDL))


def refusals(
    pair: tuple[GraphQLSchema, CostTable],
    q: str,
    variables: dict[str, Any] | None = None,
    limits: Limits | None = None,
) -> list[dict[str, Any]]:
    schema, table = pair
    errors = check_limits(parse(q), None, schema, variables, limits or Limits(), table)
    return [e for e in errors if e["extensions"]["code"] == SLICING_CODE]


def given(pair: tuple[GraphQLSchema, CostTable], q: str, variables: Any = None) -> list[Any]:
    """What each refusal says the operation gave (an empty list: nothing refused)."""
    return [e["extensions"]["given"] for e in refusals(pair, q, variables)]


def test_exactly_one_literal_slicing_argument_passes(
    annotated: tuple[GraphQLSchema, CostTable],
) -> None:
    assert given(annotated, "{ users(first: 5) { name } }") == []
    assert given(annotated, "{ users(last: 2) { name } }") == []
    # an explicit null is no value: the other one is the one given
    assert given(annotated, "{ users(first: null, last: 2) { name } }") == []


def test_none_or_two_are_refused_naming_the_field_and_its_arguments(
    annotated: tuple[GraphQLSchema, CostTable],
) -> None:
    (none,) = refusals(annotated, "{ me { name } users { name } }")
    assert none == {
        "message": 'Field "Query.users" must be given exactly one of its slicing arguments '
        "(first, last); the operation gives none.",
        "extensions": {
            "code": SLICING_CODE,
            "field": "Query.users",
            "slicingArguments": ["first", "last"],
            "given": [],
        },
        "locations": [{"line": 1, "column": 15}],
    }
    (two,) = refusals(annotated, "{ users(first: 1, last: 2) { name } }")
    assert two["message"].endswith("the operation gives 2 (first, last).")
    assert two["extensions"]["given"] == ["first", "last"]
    assert given(annotated, "{ users(first: null) { name } }") == [[]]


def test_variables_count_when_the_request_sets_them_to_a_value(
    annotated: tuple[GraphQLSchema, CostTable],
) -> None:
    q = "query($n: Int) { users(first: $n) { name } }"
    assert given(annotated, q, {"n": 4}) == []
    assert given(annotated, q, {"n": None}) == [[]]
    assert given(annotated, q, {}) == [[]]
    # a variable left out takes the argument's default
    assert given(annotated, "query($n: Int) { paged(first: $n) { name } }", {}) == []


def test_an_arguments_default_gives_it_and_null_takes_it_away(
    annotated: tuple[GraphQLSchema, CostTable],
) -> None:
    assert given(annotated, "{ paged { name } }") == []
    assert given(annotated, "{ paged(first: null) { name } }") == [[]]


def test_a_slicing_argument_may_be_an_input_field(
    annotated: tuple[GraphQLSchema, CostTable],
) -> None:
    assert given(annotated, "{ filtered(filter: {max: 3}) { name } }") == []
    assert given(annotated, "{ filtered(filter: {active: true}) { name } }") == [[]]
    assert given(annotated, "{ filtered { name } }") == [[]]
    q = "query($f: Filter) { filtered(filter: $f) { name } }"
    assert given(annotated, q, {"f": {"max": 2}}) == []
    assert given(annotated, q, {"f": {"max": None}}) == [[]]
    # the input field's default
    assert given(annotated, "{ defaulted(filter: {}) { name } }") == []


def test_nested_and_fragment_fields_are_checked_once_each(
    annotated: tuple[GraphQLSchema, CostTable],
) -> None:
    q = (
        "{ a: users(first: 2) { ...F } b: users(last: 1) { ...F } me { friends { name } } }"
        " fragment F on User { friends { name } }"
    )
    errors = refusals(annotated, q)
    assert [e["extensions"]["field"] for e in errors] == ["User.friends"]
    # a skipped field is not run, so not refused
    assert given(annotated, "{ users @skip(if: true) { name } }") == []


def test_fields_that_do_not_require_one_are_not_refused(
    annotated: tuple[GraphQLSchema, CostTable],
) -> None:
    assert given(annotated, "{ lenient { name } sized { name } }") == []
    assert given(annotated, "{ lenient(first: 1, last: 2) { name } }") == []


def test_demand_control_off_checks_nothing(annotated: tuple[GraphQLSchema, CostTable]) -> None:
    q = "{ users { name } }"
    assert refusals(annotated, q, limits=Limits(max_cost=None)) == []
    # measure still reports it, for whoever asks
    schema, table = annotated
    m = measure(parse(q), None, schema, None, None, table)
    assert m is not None
    assert [e["extensions"]["field"] for e in m.slicing] == ["Query.users"]


def test_the_projects_supergraph_refuses_no_page_left_at_its_default() -> None:
    """Every `@listSize` field of ours, asked with no argument at all, is admitted.

    Our subgraphs' pages all default their `first`, and the kit's
    `list_size` says `requireOneSlicingArgument: false` for that reason; a
    future annotation requiring one on a field portals page by default
    would fail here.
    """
    sg = load_supergraph((PROJECT_ROOT / "schema" / "supergraph.graphql").read_text())
    roots = [name for (t, name) in sg.costs.list_sizes if t == "Query"]
    assert {"charters", "vendors", "dispatchBoard"} <= set(roots)
    for name in roots:
        errors = check_limits(
            parse(f"{{ {name} {{ __typename }} }}"), None, sg.api_schema, None, Limits(), sg.costs
        )
        assert [e for e in errors if e["extensions"]["code"] == SLICING_CODE] == [], name


# -- through a real router ----------------------------------------------------------------------

REQUIRING_SUPERGRAPH = (
    SUPERGRAPH_SDL.replace(
        '@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY) {',
        '@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)\n'
        '  @link(url: "https://specs.apollo.dev/cost/v0.1", import: ["@cost", "@listSize"]) {',
    ).replace(
        "charters(first: Int, after: String): CharterConnection!",
        "charters(first: Int, after: String): CharterConnection!"
        ' @listSize(slicingArguments: ["first"], sizedFields: ["edges"])',
    )
    + DIRECTIVES
)


@pytest.fixture(scope="module")
async def charters() -> AsyncIterator[Charters]:
    async with charters_subgraph() as s:
        yield s


@pytest.fixture(scope="module")
async def endpoint(
    charters: Charters, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    path = tmp_path_factory.mktemp("slicing") / "supergraph.graphql"
    path.write_text(REQUIRING_SUPERGRAPH.replace("{url}", charters.url))
    config = load_config(["--supergraph", str(path)], {"ROUTER_JWKS_URL": ""})
    async with router(config) as server:
        yield server.graphql_url


async def test_router_refuses_a_page_without_its_slicing_argument_before_any_fetch(
    endpoint: str, charters: Charters
) -> None:
    charters.clear()
    q = "query($n: Int) { charters(first: $n) { edges { node { id } } } }"
    async with httpx.AsyncClient(timeout=10) as http:
        refused = (await http.post(endpoint, json={"query": q})).json()
        assert "data" not in refused
        (error,) = refused["errors"]
        assert error["extensions"] == {
            "code": SLICING_CODE,
            "field": "Query.charters",
            "slicingArguments": ["first"],
            "given": [],
        }
        assert charters.bodies == []  # never reached the subgraph

        answered = (await http.post(endpoint, json={"query": q, "variables": {"n": 2}})).json()
        # the variable's own default gives it (the router coerces variables first)
        defaulted = q.replace("$n: Int", "$n: Int = 1")
        by_default = (await http.post(endpoint, json={"query": defaulted})).json()
    assert "errors" not in answered
    assert len(answered["data"]["charters"]["edges"]) == 2
    assert "errors" not in by_default
    assert len(by_default["data"]["charters"]["edges"]) == 1
