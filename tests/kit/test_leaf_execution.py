"""The kit's executor completes leaf fields in one step and answers exactly as graphql-core does.

Each query runs twice on the same schema: once with the kit's execution
context, once with Strawberry's (graphql-core's general path), and the
results (data, errors, their messages, paths and locations) must be equal.
The cases are the ones the short path decides itself: a null in a non-null
leaf, a resolver that raises or returns an exception, a value the scalar
cannot coerce, an enum, an async leaf, aliases, and @skip/@include.
"""

from __future__ import annotations

import asyncio
import enum
from typing import Any

import pytest
import strawberry
from graphql import GraphQLNonNull, GraphQLObjectType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from subgraphs.kit.execution import KitExecution
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
    async def later(self) -> str:
        await asyncio.sleep(0)
        return "awaited"

    @strawberry.field
    def bad_colour(self) -> Colour:
        return "green"  # type: ignore[return-value]

    @strawberry.field
    def with_argument(self, times: int = 2) -> int:
        return self.number * times


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


SCHEMA = build_schema(Query)

QUERIES = [
    "{ items { number maybe colour } }",
    "{ items { n: number again: number colour } one { number colour } }",
    "{ one { number requiredButNull } }",
    "{ items { number raises } }",
    "{ one { returnsError maybe } }",
    "{ one { notAnInt } }",
    "{ one { huge } }",
    "{ items { later number } }",
    "{ one { badColour } }",
    "{ one { withArgument withArgument3: withArgument(times: 3) } }",
    "query($s: Boolean!) { items { number @skip(if: $s) maybe @include(if: $s) } }",
    "{ one { ...F } } fragment F on Leafy { number colour maybe }",
    "{ items { number } one { raises number requiredButNull } }",
    "{ broken { number maybe } }",
    "{ broken { maybe colour } }",
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


async def test_the_short_path_is_taken_for_plain_leaves_only(monkeypatch: Any) -> None:
    """Argument-less leaves skip `complete_value`; objects, lists and fields with arguments don't."""
    completed: list[str] = []
    original = KitExecution.complete_value

    def spy(self: Any, return_type: Any, *args: Any, **kwargs: Any) -> Any:
        named = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type
        completed.append(str(named))
        return original(self, return_type, *args, **kwargs)

    monkeypatch.setattr(KitExecution, "complete_value", spy)
    answer = await _run("{ one { number colour withArgument } }", KitExecution)
    assert answer == {
        "data": {"one": {"number": 7, "colour": "BLUE", "withArgument": 14}},
        "errors": [],
    }
    assert "Leafy" in completed  # the object goes the general way
    # the leaf with an argument goes the general way too (Int!, then Int); `number` and
    # `colour` do not
    assert completed.count("Int") == 2
    assert "Colour" not in completed


def test_a_leaf_plan_is_made_once_per_schema_and_field() -> None:
    from subgraphs.kit.execution import _plans

    plans = _plans(SCHEMA._schema)
    leafy = SCHEMA._schema.get_type("Leafy")
    assert isinstance(leafy, GraphQLObjectType)
    assert plans.get((leafy, "number")) is not None
    assert plans.get((leafy, "withArgument"), None) is None


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
    assert built == [
        "Query.one",
        "Leafy.later",
    ]  # the resolver fields; the plain ones read directly
