"""The client-facing schema of a supergraph, built here without the router.

The operation generator walks this schema. It is derived independently of
`router.supergraph.api_schema` so that a bug there cannot hide fields from
the generator (and so the differential tests stay a check of the router,
not a copy of it): drop the join/link machinery, every directive, and the
`@inaccessible` elements.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from graphql import (
    DefinitionNode,
    DirectiveDefinitionNode,
    DocumentNode,
    GraphQLSchema,
    TypeDefinitionNode,
    build_ast_schema,
    parse,
)

_MACHINERY = ("join__", "link__")


def _hidden(node: Any) -> bool:
    return any(d.name.value == "inaccessible" for d in node.directives or ())


def _strip(node: Any) -> Any:
    """The node without directives and without @inaccessible members."""
    changes: dict[str, Any] = {"directives": ()}
    for attr in ("fields", "values", "arguments"):
        members = getattr(node, attr, None)
        if members is not None:
            changes[attr] = tuple(_strip(m) for m in members if not _hidden(m))
    return dataclasses.replace(node, **changes)


def _kept(node: DefinitionNode) -> bool:
    if isinstance(node, DirectiveDefinitionNode):
        return False
    if isinstance(node, TypeDefinitionNode):
        return not node.name.value.startswith(_MACHINERY) and not _hidden(node)
    return True


def api_schema(supergraph_sdl: str) -> GraphQLSchema:
    doc = parse(supergraph_sdl)
    definitions: list[DefinitionNode] = []
    for node in doc.definitions:
        if not _kept(node):
            continue
        definitions.append(_strip(node))
    return build_ast_schema(DocumentNode(definitions=tuple(definitions)), assume_valid_sdl=True)
