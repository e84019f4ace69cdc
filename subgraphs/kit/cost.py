"""What a field costs the router to ask for: `@cost` and `@listSize` (Federation 2.9).

The router prices each operation before planning it (demand control,
`router/guard/cost.py`) and refuses one over its budget. By default an
object weighs 1, a scalar 0 and a list its size times its item; a subgraph
states here what it knows better: a figure computed over months of rows
weighs more, a page is as long as its `first` says.

Strawberry declares both directives and links them (`@link(url:
"https://specs.apollo.dev/federation/v2.9", import: ["@cost", "@listSize"])`);
composition keeps them in the supergraph.
"""

from __future__ import annotations

from strawberry.federation.schema_directives import Cost, ListSize

from subgraphs.kit.pagination import MAX_PAGE_SIZE

__all__ = ["cost", "list_size", "page"]


def cost(weight: int) -> Cost:
    """`@cost(weight:)`: on a field, an argument or a type."""
    return Cost(weight=weight)


def list_size(
    assumed_size: int,
    slicing_arguments: list[str] | None = None,
    sized_fields: list[str] | None = None,
    require_one_slicing_argument: bool = False,
) -> ListSize:
    """`@listSize`: how long the list a field returns (or its sized fields) can be.

    `require_one_slicing_argument` defaults to false here (the specification
    says true): our slicing arguments have defaults, so leaving one out is a
    normal request, priced at that default. `assumed_size` is required
    because composition refuses the `null` Strawberry would print without it;
    it is the size when no slicing argument gives one.
    """
    return ListSize(
        assumed_size=assumed_size,
        slicing_arguments=slicing_arguments,
        sized_fields=sized_fields,
        require_one_slicing_argument=require_one_slicing_argument,
    )


def page(slicing_argument: str = "first") -> ListSize:
    """A Relay connection: its `edges` are as many as its slicing argument asks (at most a page)."""
    return list_size(MAX_PAGE_SIZE, slicing_arguments=[slicing_argument], sized_fields=["edges"])
