"""Derive the client-facing API schema from the supergraph document.

Clients validate and introspect against this schema only, so it must not
show federation machinery or anything marked @inaccessible.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from graphql import (
    DirectiveDefinitionNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    GraphQLScalarType,
    GraphQLSchema,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    NamedTypeNode,
    ObjectTypeDefinitionNode,
    SchemaDefinitionNode,
    StringValueNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
    build_ast_schema,
    parse,
)
from graphql.language import TypeNode
from graphql.type import specified_directives, specified_scalar_types

#: spec name (last path segment before the version) -> default prefix
_KNOWN_SPECS = {
    "join": "join",
    "link": "link",
    "core": "core",
    "inaccessible": "inaccessible",
    "tag": "tag",
    "authenticated": "authenticated",
    "requiresScopes": "requiresScopes",
    "policy": "policy",
    "cost": "cost",
    "context": "context",
}
_KEEP_DIRECTIVES = {d.name for d in specified_directives} | {"oneOf"}
#: the router answers @defer itself (multipart incremental delivery)
DEFER_DIRECTIVE = (
    "directive @defer(if: Boolean! = true, label: String) on FRAGMENT_SPREAD | INLINE_FRAGMENT"
)


def spec_prefixes(doc: DocumentNode) -> dict[str, str]:
    """Map each linked spec to the name it is used under (honouring `as:`)."""
    out: dict[str, str] = {"link": "link"}
    for node in doc.definitions:
        if not isinstance(node, SchemaDefinitionNode):
            continue
        for d in node.directives or ():
            if d.name.value not in ("link", "core"):
                continue
            url = alias = None
            for a in d.arguments or ():
                if a.name.value in ("url", "feature") and isinstance(a.value, StringValueNode):
                    url = a.value.value
                if a.name.value == "as" and isinstance(a.value, StringValueNode):
                    alias = a.value.value
            if url:
                parts = [p for p in url.split("/") if p]
                spec = parts[-2] if len(parts) >= 2 else parts[-1]
                out[spec] = alias or _KNOWN_SPECS.get(spec, spec)
    return out


def _named(t: TypeNode) -> str:
    while not isinstance(t, NamedTypeNode):
        t = t.type  # type: ignore[attr-defined]
    return t.name.value


def build_api_schema(doc: DocumentNode, prefixes: dict[str, str]) -> GraphQLSchema:
    inaccessible = prefixes.get("inaccessible", "inaccessible")
    machinery = tuple(p + "__" for p in prefixes.values())
    spec_directives = set(prefixes.values())

    def hidden(node: object) -> bool:
        return any(d.name.value == inaccessible for d in getattr(node, "directives", None) or ())

    def clean(node: Any, **changes: Any) -> Any:
        dirs = tuple(
            d for d in getattr(node, "directives", None) or () if d.name.value in _KEEP_DIRECTIVES
        )
        return replace(node, directives=dirs, **changes)

    removed_types = {
        n.name.value
        for n in doc.definitions
        if isinstance(n, TypeDefinitionNode) and (hidden(n) or n.name.value.startswith(machinery))
    }

    def visible_type(t: TypeNode) -> bool:
        return _named(t) not in removed_types

    defs: list[Any] = []
    for node in doc.definitions:
        if isinstance(node, SchemaDefinitionNode):
            defs.append(clean(node))
            continue
        if isinstance(node, DirectiveDefinitionNode):
            name = node.name.value
            if name in spec_directives or name.startswith(machinery) or name in ("link", "core"):
                continue
            defs.append(node)
            continue
        if not isinstance(node, TypeDefinitionNode) or node.name.value in removed_types:
            continue
        new: Any
        if isinstance(node, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
            fields = tuple(
                clean(
                    f,
                    arguments=tuple(
                        clean(a)
                        for a in f.arguments or ()
                        if not hidden(a) and visible_type(a.type)
                    ),
                )
                for f in node.fields or ()
                if not hidden(f) and visible_type(f.type)
            )
            if not fields:
                continue
            interfaces = tuple(
                i for i in node.interfaces or () if i.name.value not in removed_types
            )
            new = clean(node, fields=fields, interfaces=interfaces)
        elif isinstance(node, UnionTypeDefinitionNode):
            members = tuple(m for m in node.types or () if m.name.value not in removed_types)
            if not members:
                continue
            new = clean(node, types=members)
        elif isinstance(node, EnumTypeDefinitionNode):
            new = clean(node, values=tuple(clean(v) for v in node.values or () if not hidden(v)))
        elif isinstance(node, InputObjectTypeDefinitionNode):
            new = clean(
                node,
                fields=tuple(
                    clean(f) for f in node.fields or () if not hidden(f) and visible_type(f.type)
                ),
            )
        else:
            new = clean(node)
        defs.append(new)
    if not any(isinstance(d, DirectiveDefinitionNode) and d.name.value == "defer" for d in defs):
        # incremental delivery (router/planning/defer.py): graphql-core validates
        # a directive only when the schema defines it
        defs.extend(parse(DEFER_DIRECTIVE).definitions)
    api_doc = DocumentNode(definitions=tuple(defs))
    return build_ast_schema(api_doc, assume_valid_sdl=True)


def check_scalar_inputs(
    schema: GraphQLSchema, rules: Mapping[str, Callable[[Any], object]]
) -> None:
    """Give the API schema's custom scalars their input rules (by scalar name).

    A scalar built from SDL accepts any input, so a bad `Money` literal or
    variable used to pass validation and fail in the subgraph, whose error is
    about its own document. With the rule, the router refuses it during
    validation (literals) or variable coercion, pointing into the client's
    document. The value still travels unchanged: the subgraph parses it.
    Scalars without a rule keep accepting anything.
    """
    for name, rule in rules.items():
        scalar = schema.type_map.get(name)
        if not isinstance(scalar, GraphQLScalarType) or name in specified_scalar_types:
            continue

        def check(value: Any, rule: Callable[[Any], object] = rule) -> Any:
            rule(value)
            return value

        # `parse_literal` (literals) calls `coerce_input_value`; variables use both names
        scalar.coerce_input_value = check
        scalar.parse_value = check  # type: ignore[method-assign]
