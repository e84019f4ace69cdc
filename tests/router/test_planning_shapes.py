"""Plans for small hand-written supergraphs: the tricky shapes, without servers."""

from __future__ import annotations

from graphql import parse

from router.planning.operation import select_operation, to_items
from router.planning.planner import Planner
from router.supergraph.load import load_supergraph

HEAD = """
schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.3", for: EXECUTION)
{ query: Query }
scalar join__FieldSet
enum join__Graph {
  A @join__graph(name: "a", url: "http://a")
  B @join__graph(name: "b", url: "http://b")
  C @join__graph(name: "c", url: "http://c")
}
"""


def plan(types: str, query: str) -> list[tuple[str, str, tuple[int, ...]]]:
    sg = load_supergraph(HEAD + types)
    op = select_operation(parse(query), None)
    p = Planner(sg).plan(op, to_items(op.selection_set, {}, {}) or [])
    return [(n.service_name, ".".join(n.path), n.deps) for n in p.nodes]


def test_shared_root_field_of_a_value_type_is_split_between_subgraphs() -> None:
    # Quote is no entity: its fields can only come through Query.quote itself.
    types = """
    type Query @join__type(graph: A) @join__type(graph: B) { quote: Quote }
    type Quote @join__type(graph: A) @join__type(graph: B) {
      total: Int @join__field(graph: A)
      currency: String @join__field(graph: B)
    }
    """
    assert sorted(plan(types, "{ quote { total currency } }")) == [("a", "", ()), ("b", "", ())]


def test_parent_field_is_asked_again_where_the_child_lives() -> None:
    # Details exist only under Vehicle.spec in C, and Spec has no key anywhere.
    types = """
    type Query @join__type(graph: A) { vehicle: Vehicle @join__field(graph: A) }
    type Vehicle @join__type(graph: A, key: "id") @join__type(graph: C, key: "id") {
      id: ID!
      spec: Spec
    }
    type Spec @join__type(graph: A) @join__type(graph: C) {
      seats: Int @join__field(graph: A)
      wifi: Boolean @join__field(graph: C)
    }
    """
    assert plan(types, "{ vehicle { spec { seats wifi } } }") == [
        ("a", "", ()),
        ("c", "vehicle", (0,)),
    ]


def test_key_missing_at_the_source_is_fetched_first() -> None:
    # B knows Vendor only by its taxId, which A cannot give: C translates.
    types = """
    type Query @join__type(graph: A) { vendor: Vendor @join__field(graph: A) }
    type Vendor
      @join__type(graph: A, key: "id")
      @join__type(graph: B, key: "taxId")
      @join__type(graph: C, key: "id")
    {
      id: ID! @join__field(graph: A) @join__field(graph: C)
      taxId: String @join__field(graph: B) @join__field(graph: C)
      rating: Int @join__field(graph: B)
    }
    """
    (a, c, b) = plan(types, "{ vendor { rating } }")
    assert a == ("a", "", ())
    assert c == ("c", "vendor", (0,))
    assert b[:2] == ("b", "vendor")
    assert 1 in b[2], "B waits for the taxId from C"


def test_cheapest_combination_wins() -> None:
    # name and rating both live in C; B only has rating. One jump, not two.
    types = """
    type Query @join__type(graph: A) { vendor: Vendor @join__field(graph: A) }
    type Vendor
      @join__type(graph: A, key: "id")
      @join__type(graph: B, key: "id")
      @join__type(graph: C, key: "id")
    {
      id: ID!
      rating: Int @join__field(graph: B) @join__field(graph: C)
      name: String @join__field(graph: C)
    }
    """
    assert plan(types, "{ vendor { rating name } }") == [("a", "", ()), ("c", "vendor", (0,))]


def test_requires_of_a_field_from_a_third_subgraph() -> None:
    types = """
    type Query @join__type(graph: A) { trip: Trip @join__field(graph: A) }
    type Trip
      @join__type(graph: A, key: "id")
      @join__type(graph: B, key: "id")
      @join__type(graph: C, key: "id")
    {
      id: ID!
      miles: Int @join__field(graph: B) @join__field(graph: C, external: true)
      price: Int @join__field(graph: C, requires: "miles")
    }
    """
    assert plan(types, "{ trip { price } }") == [
        ("a", "", ()),
        ("b", "trip", (0,)),
        ("c", "trip", (0, 1)),
    ]


def test_requires_with_different_arguments_need_separate_representations() -> None:
    types = """
    type Query @join__type(graph: A) { fares: [Fare] @join__field(graph: A) }
    type Fare @join__type(graph: A, key: "id") @join__type(graph: B, key: "id") {
      id: ID!
      price(currency: String!): Int @join__field(graph: A) @join__field(graph: B, external: true)
      usd: Int @join__field(graph: B, requires: "price(currency: \\"USD\\")")
      eur: Int @join__field(graph: B, requires: "price(currency: \\"EUR\\")")
    }
    """
    sg = load_supergraph(HEAD + types)
    op = select_operation(parse("{ fares { usd eur } }"), None)
    nodes = Planner(sg).plan(op, to_items(op.selection_set, {}, {}) or []).nodes
    assert [n.service_name for n in nodes] == ["a", "b", "b"]
    root = nodes[0].query
    assert 'price(currency: "USD")' in root
    assert 'price(currency: "EUR")' in root, "both arguments fetched, under private aliases"
