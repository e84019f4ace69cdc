"""Plans: caching, and the shape of a few plans that matter."""

from __future__ import annotations

from pathlib import Path

from graphql import parse

from router.gateway import Gateway
from router.planning.operation import select_operation, to_items
from router.planning.planner import Planner
from router.supergraph.load import load_supergraph

SDL = (Path(__file__).parent / "fixtures" / "supergraph.graphql").read_text()


def plan(query: str) -> list[tuple[str, str]]:
    sg = load_supergraph(SDL)
    doc = parse(query)
    op = select_operation(doc, None)
    p = Planner(sg).plan(op, to_items(op.selection_set, {}, {}) or [])
    return [(n.service_name, ".".join(n.path)) for n in p.nodes]


def test_api_schema_hides_machinery() -> None:
    sg = load_supergraph(SDL)
    names = set(sg.api_schema.type_map)
    assert not any(n.startswith(("join__", "link__")) for n in names)
    assert "internalNote" not in sg.api_schema.type_map["Charter"].fields  # type: ignore[attr-defined]
    assert sg.subgraphs["PRICING"].types["Document"].interface_object


def test_entity_chain_plan() -> None:
    assert plan("{ charters { vehicles { vendor { name } } } }") == [
        ("charters", ""),
        ("vendors", "charters.@.vehicles.@"),
    ]


def test_requires_waits_for_its_fields() -> None:
    assert sorted(plan("{ clients { id } charters { quote { total } } }")) == [
        ("charters", ""),
        ("pricing", "charters.@"),
        ("sales", ""),
    ]


def test_types_at_one_abstract_position_share_one_fetch() -> None:
    assert plan("{ documents { archived } }") == [("vendors", ""), ("pricing", "documents.@")]


def test_provided_field_needs_no_jump() -> None:
    assert plan("{ charters { client { name } } }") == [("charters", "")]


async def test_plans_are_cached(gateway: Gateway) -> None:
    from router.gateway import GraphQLRequest

    await gateway.execute(GraphQLRequest("{ charters { reference } }"))
    hits = gateway.plans.hits
    await gateway.execute(GraphQLRequest("query {\n  charters {\n    reference # same\n  }\n}"))
    assert gateway.plans.hits == hits + 1, "the same operation spelled differently is a hit"


async def test_plan_is_specialised_per_condition(gateway: Gateway) -> None:
    from graphql import parse as gparse

    from router.planning.operation import condition_variables

    q = 'query($q: Boolean!) { charter(id: "c1") { reference quote @include(if: $q) { total } } }'
    doc = gparse(q)
    op = select_operation(doc, None)
    conds = condition_variables(doc)
    with_quote = gateway.plan(doc, op, conds, {"q": True}, q, None).describe()
    without = gateway.plan(doc, op, conds, {"q": False}, q, None).describe()
    assert with_quote["kind"] == "Condition"
    assert with_quote["if"] == "$q"
    assert with_quote["then"]["kind"] == "Sequence"
    assert [n["kind"] for n in with_quote["then"]["nodes"]] == ["Fetch", "Flatten"]
    assert without["else"]["kind"] == "Fetch"
