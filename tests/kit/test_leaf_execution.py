"""The kit's executor completes common fields in one step and answers exactly as graphql-core does.

Each query runs twice on the same schema: once with the kit's execution
context, once with Strawberry's (graphql-core's general path), and the
results (data, errors, their messages, paths and locations) must be equal.
The cases are the ones the short paths decide themselves: a null in a
non-null leaf, a resolver that raises or returns an exception, a value the
scalar cannot coerce, an enum, an async leaf, aliases, @skip/@include; and
for objects and lists of objects, nulls in non-null items and fields (their
propagation to the nearest nullable parent), failing and awaitable items,
tuples and other iterables, and a `reads_first` answer that defers to its
resolver.
"""

from __future__ import annotations

import asyncio
import enum
from typing import Any

import pytest
import strawberry
from graphql import GraphQLNonNull, GraphQLObjectType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from subgraphs.kit.execution import UNREAD, KitExecution, reads_first
from subgraphs.kit.extensions import MaskInternalErrors
from subgraphs.kit.schema import build_schema


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Leafy:
    number: int
    maybe: int | None
    colour: Colour

    @strawberry.field
    def required_but_null(self) -> int:
        return None  # type: ignore[return-value]

    @strawberry.field
    def raises(self) -> int:
        raise ValueError("a resolver failed")

    @strawberry.field
    def returns_error(self) -> str | None:
        return ValueError("returned, not raised")  # type: ignore[return-value]

    @strawberry.field
    def not_an_int(self) -> int:
        return "seven"  # type: ignore[return-value]

    @strawberry.field
    def huge(self) -> int:
        return 2**40

    @strawberry.field
    def edge_of_int(self) -> list[int]:
        return [2**31 - 1, -(2**31)]

    @strawberry.field
    def just_over(self) -> int:
        return 2**31

    @strawberry.field
    def truth_as_int(self) -> int:
        return True  # a bool is an int to Python, coerced to 1 by graphql-core

    @strawberry.field
    def number_as_id(self) -> strawberry.ID:
        return 12  # type: ignore[return-value]

    @strawberry.field
    def flag(self) -> bool:
        return True

    @strawberry.field
    async def later(self) -> str:
        await asyncio.sleep(0)
        return "awaited"

    @strawberry.field
    def bad_colour(self) -> Colour:
        return "green"  # type: ignore[return-value]

    @strawberry.field
    def with_argument(self, times: int = 2) -> int:
        return self.number * times


def _child_when_even(node: Node) -> Any:
    return Node(label=node.label * 2) if node.label % 2 == 0 else UNREAD


@strawberry.type
class Node:
    """Objects and lists of objects, each shape of value the list short path must handle."""

    label: int

    @strawberry.field
    def children(self) -> list[Node]:
        return [Node(label=self.label * 10 + n) for n in range(2)]

    @strawberry.field
    def strict_children(self) -> list[Node]:
        return [Node(label=1), None]  # type: ignore[list-item]

    @strawberry.field
    def loose_children(self) -> list[Node | None] | None:
        return [Node(label=1), None, ValueError("an item failed")]  # type: ignore[list-item]

    @strawberry.field
    def tuple_children(self) -> list[Node]:
        return (Node(label=5), Node(label=6))  # type: ignore[return-value]

    @strawberry.field
    def generated_children(self) -> list[Node]:
        return (Node(label=n) for n in range(2))  # type: ignore[return-value]

    @strawberry.field
    def awaitable_children(self) -> list[Node]:
        async def later(label: int) -> Node:
            await asyncio.sleep(0)
            return Node(label=label)

        return [later(1), Node(label=2)]  # type: ignore[list-item]

    @strawberry.field
    async def later_children(self) -> list[Node]:
        await asyncio.sleep(0)
        return [Node(label=7)]

    @strawberry.field
    def parent(self) -> Node:
        return Node(label=self.label - 1)

    @strawberry.field
    def missing_parent(self) -> Node:
        return None  # type: ignore[return-value]

    @strawberry.field
    def maybe_parent(self) -> Node | None:
        return None

    @strawberry.field
    def failing(self) -> int:
        raise ValueError(f"node {self.label} failed")

    @strawberry.field
    @reads_first(_child_when_even)
    def child(self) -> Node:
        found = _child_when_even(self)
        return Node(label=-self.label) if found is UNREAD else found


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Leafy]:
        return [Leafy(number=n, maybe=None if n % 2 else n, colour=Colour.RED) for n in range(3)]

    @strawberry.field
    def one(self) -> Leafy | None:
        return Leafy(number=7, maybe=1, colour=Colour.BLUE)

    @strawberry.field
    def broken(self) -> list[Leafy | None]:
        """Plain fields whose attributes break their types: null in `number`, none at all."""
        nulled = Leafy(number=1, maybe=2, colour=Colour.RED)
        nulled.number = None  # type: ignore[assignment]
        missing = Leafy(number=1, maybe=2, colour=Colour.RED)
        del missing.colour
        return [nulled, missing]

    @strawberry.field
    def nodes(self) -> list[Node]:
        return [Node(label=n) for n in range(1, 4)]

    @strawberry.field
    def node(self) -> Node | None:
        return Node(label=2)


SCHEMA = build_schema(Query)
# Messages are compared as raised: masked, every failure would read "Internal error."
SCHEMA.extensions = [e for e in SCHEMA.extensions if e is not MaskInternalErrors]

QUERIES = [
    "{ items { number maybe colour } }",
    "{ items { n: number again: number colour } one { number colour } }",
    "{ one { number requiredButNull } }",
    "{ items { number raises } }",
    "{ one { returnsError maybe } }",
    "{ one { notAnInt } }",
    "{ one { huge } }",
    "{ one { edgeOfInt justOver } }",
    "{ items { truthAsInt numberAsId flag number } }",
    "{ items { later number } }",
    "{ one { badColour } }",
    "{ one { withArgument withArgument3: withArgument(times: 3) } }",
    "query($s: Boolean!) { items { number @skip(if: $s) maybe @include(if: $s) } }",
    "{ one { ...F } } fragment F on Leafy { number colour maybe }",
    "{ items { number } one { raises number requiredButNull } }",
    "{ broken { number maybe } }",
    "{ broken { maybe colour } }",
    "{ nodes { label children { label children { label } } } }",
    "{ nodes { label parent { label parent { label } } } node { label } }",
    "{ node { strictChildren { label } } }",
    "{ nodes { label strictChildren { label } } }",
    "{ node { label looseChildren { label } } }",
    "{ node { tupleChildren { label } generatedChildren { label } } }",
    "{ node { awaitableChildren { label } laterChildren { label children { label } } } }",
    "{ node { label missingParent { label } } }",
    "{ nodes { label maybeParent { label } } }",
    "{ nodes { label children { label failing } } }",
    "{ node { children { label parent { failing } } } }",
    "{ nodes { label child { label child { label } } } }",
    "{ nodes { a: children { label } b: children { label } } }",
    "{ node { children { ... on Node { label } ...F } } } fragment F on Node { parent { label } }",
    "{ nodes { __typename label children { t: __typename label children { label } } } }",
    "{ items { __typename number maybe colour truthAsInt numberAsId flag } }",
    "{ nodes { label children { label } strictChildren { label } } }",
    "{ nodes { child { label } } }",
]


async def _run(query: str, execution: type[Any]) -> dict[str, Any]:
    previous = SCHEMA.execution_context_class
    SCHEMA.execution_context_class = execution
    try:
        result = await SCHEMA.execute(query, variable_values={"s": True})
    finally:
        SCHEMA.execution_context_class = previous
    return {
        "data": result.data,
        "errors": [e.formatted for e in result.errors or []],
    }


def test_the_kits_schemas_use_the_kits_executor() -> None:
    assert SCHEMA.execution_context_class is KitExecution


@pytest.mark.parametrize("query", QUERIES)
async def test_the_answer_is_graphql_cores(query: str) -> None:
    ours = await _run(query, KitExecution)
    theirs = await _run(query, StrawberryGraphQLCoreExecutionContext)
    assert ours == theirs
    assert ours["data"] is not None or ours["errors"]


async def test_the_short_paths_skip_complete_value_where_they_apply(monkeypatch: Any) -> None:
    """Argument-less leaves, objects and lists of objects skip `complete_value`; arguments don't."""
    completed: list[str] = []
    original = KitExecution.complete_value

    def spy(self: Any, return_type: Any, *args: Any, **kwargs: Any) -> Any:
        named = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
        completed.append(str(named))
        return original(self, return_type, *args, **kwargs)

    monkeypatch.setattr(KitExecution, "complete_value", spy)
    answer = await _run(
        "{ one { number colour withArgument } nodes { children { label } } }", KitExecution
    )
    assert answer["errors"] == []
    assert answer["data"]["one"] == {"number": 7, "colour": "BLUE", "withArgument": 14}
    # only the leaf with an argument goes the general way (Int!, then Int)
    assert completed == ["Int", "Int"]
    completed.clear()
    # a generator is not a list: graphql-core completes it, and its items
    answer = await _run("{ node { generatedChildren { label } } }", KitExecution)
    assert answer["data"] == {"node": {"generatedChildren": [{"label": 0}, {"label": 1}]}}
    assert completed == ["[Node!]", "[Node!]"] + ["Node", "Node"] * 2  # non-null, then inner


def test_a_leaf_plan_is_made_once_per_schema_and_field() -> None:
    from subgraphs.kit.execution import field_plan

    leafy = SCHEMA._schema.get_type("Leafy")
    assert isinstance(leafy, GraphQLObjectType)
    plan = field_plan(SCHEMA._schema, leafy, "number")
    assert plan is not None
    assert plan is field_plan(SCHEMA._schema, leafy, "number")
    assert field_plan(SCHEMA._schema, leafy, "withArgument") is None


async def test_a_plain_leaf_is_read_without_a_resolve_info(monkeypatch: Any) -> None:
    built: list[str] = []
    original = KitExecution.build_resolve_info

    def spy(self: Any, field: Any, nodes: Any, parent_type: Any, path: Any) -> Any:
        built.append(f"{parent_type.name}.{nodes[0].name.value}")
        return original(self, field, nodes, parent_type, path)

    monkeypatch.setattr(KitExecution, "build_resolve_info", spy)
    answer = await _run("{ one { number maybe colour later } }", KitExecution)
    assert answer["data"] == {
        "one": {"number": 7, "maybe": 1, "colour": "BLUE", "later": "awaited"}
    }
    # `later` awaits; `one` and the plain fields are read from their objects alone
    assert built == ["Leafy.later"]


async def test_a_selection_of_plain_reads_is_completed_by_its_generated_code(
    monkeypatch: Any,
) -> None:
    """No field by field execution below the root when every field is a plain read."""
    executed: list[str] = []
    original = KitExecution._execute_entries

    def spy(self: Any, parent_type: Any, *args: Any) -> Any:
        executed.append(parent_type.name)
        return original(self, parent_type, *args)

    monkeypatch.setattr(KitExecution, "_execute_entries", spy)
    query = "{ nodes { __typename label children { label children { label } } parent { label } } }"
    answer = await _run(query, KitExecution)

    assert answer == await _run(query, StrawberryGraphQLCoreExecutionContext)
    assert executed == ["Query"]
    executed.clear()
    # one item the generated code cannot answer (a null in a non-null list): the list
    # goes the general way, and its error is graphql-core's
    answer = await _run("{ nodes { label strictChildren { label } } }", KitExecution)
    assert answer["errors"][0]["path"] == ["nodes", 0, "strictChildren", 1]
    assert "Node" in executed


def test_the_shapes_kept_are_bounded(monkeypatch: Any) -> None:
    from subgraphs.kit import compiled_selections as C

    monkeypatch.setattr(C, "MAX_SHAPES", 3)
    cache = C.ShapeCache()
    made = [
        cache.get(("T", (str(n),)), "T", [C.ShapeField("t", typename="T")], UNREAD)
        for n in range(5)
    ]
    assert all(complete(object(), None) == {"t": "T"} for complete in made)
    assert len(cache._completers) <= 3
