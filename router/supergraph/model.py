"""What each subgraph can resolve, as read from the supergraph's join directives.

The planner asks these questions thousands of times per operation, so the
answers are precomputed into plain dictionaries once per supergraph.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import GraphQLSchema, SelectionSetNode

from router.guard.cost import CostTable


@dataclass(frozen=True, slots=True)
class Key:
    fields: str
    selection: SelectionSetNode
    resolvable: bool


@dataclass(slots=True)
class FieldInGraph:
    """A field as one subgraph declares it."""

    name: str
    type: str
    external: bool = False
    requires: SelectionSetNode | None = None
    provides: SelectionSetNode | None = None
    override_from: str | None = None
    used_overridden: bool = False

    @property
    def resolvable(self) -> bool:
        return not self.external and not self.used_overridden


@dataclass(slots=True)
class TypeInGraph:
    """A type as one subgraph knows it."""

    name: str
    kind: str
    keys: list[Key] = field(default_factory=list)
    interface_object: bool = False
    extension: bool = False
    fields: dict[str, FieldInGraph] = field(default_factory=dict)
    interfaces: set[str] = field(default_factory=set)
    members: set[str] = field(default_factory=set)
    enum_values: set[str] = field(default_factory=set)

    @property
    def resolvable_keys(self) -> list[Key]:
        return [k for k in self.keys if k.resolvable]


@dataclass(slots=True)
class Subgraph:
    id: str
    name: str
    url: str
    types: dict[str, TypeInGraph] = field(default_factory=dict)
    #: abstract type name -> object types this subgraph can return for it
    possible: dict[str, set[str]] = field(default_factory=dict)

    def field(self, type_name: str, field_name: str) -> FieldInGraph | None:
        t = self.types.get(type_name)
        return t.fields.get(field_name) if t is not None else None

    def possible_types(self, type_name: str) -> set[str]:
        t = self.types.get(type_name)
        if t is None:
            return set()
        if t.kind == "object" or t.interface_object:
            return {type_name}
        return self.possible.get(type_name, set())


@dataclass(slots=True)
class Supergraph:
    """The loaded supergraph: API schema plus the per-subgraph model."""

    sdl: str
    schema: GraphQLSchema
    api_schema: GraphQLSchema
    subgraphs: dict[str, Subgraph]
    #: supergraph abstract type -> every object type that may appear for it
    possible: dict[str, set[str]]
    #: object type -> interfaces it implements in the supergraph
    interfaces_of: dict[str, set[str]]
    version: str = ""
    #: the `@cost`/`@listSize` table demand control prices operations with
    costs: CostTable = field(default_factory=CostTable)

    def is_abstract(self, type_name: str) -> bool:
        return type_name in self.possible

    def possible_types(self, type_name: str) -> set[str]:
        return self.possible.get(type_name, {type_name})
