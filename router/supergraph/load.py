"""Parse a supergraph SDL into the per-subgraph model (join spec v0.3-v0.5)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from graphql import (
    BooleanValueNode,
    ConstDirectiveNode,
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumValueNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    ScalarTypeDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    TypeDefinitionNode,
    UnionTypeDefinitionNode,
    ValueNode,
    build_ast_schema,
    parse,
    print_ast,
)

from router.guard.cost import read_costs
from router.supergraph.api_schema import build_api_schema, spec_prefixes
from router.supergraph.model import FieldInGraph, Key, Subgraph, Supergraph, TypeInGraph

_KINDS: dict[type, str] = {
    ObjectTypeDefinitionNode: "object",
    InterfaceTypeDefinitionNode: "interface",
    UnionTypeDefinitionNode: "union",
    EnumTypeDefinitionNode: "enum",
    InputObjectTypeDefinitionNode: "input",
    ScalarTypeDefinitionNode: "scalar",
}


class SupergraphError(ValueError):
    """The file is not a supergraph this router can serve."""


def parse_field_set(text: str) -> SelectionSetNode:
    """Parse a join__FieldSet, which is a selection set without its braces."""
    doc = parse("{" + text + "}", no_location=True)
    op = doc.definitions[0]
    return op.selection_set  # type: ignore[attr-defined, no-any-return]


def _args(directive: ConstDirectiveNode) -> dict[str, object]:
    out: dict[str, object] = {}
    for arg in directive.arguments or ():
        out[arg.name.value] = _value(arg.value)
    return out


def _value(node: ValueNode) -> object:
    if isinstance(node, StringValueNode | EnumValueNode):
        return node.value
    if isinstance(node, BooleanValueNode):
        return node.value
    return print_ast(node)


def _directives(node: object, name: str) -> Iterable[dict[str, object]]:
    for d in getattr(node, "directives", None) or ():
        if d.name.value == name:
            yield _args(d)


def load_supergraph(sdl: str) -> Supergraph:
    try:
        doc = parse(sdl, no_location=True)
    except Exception as exc:
        raise SupergraphError(f"supergraph does not parse: {exc}") from exc
    prefixes = spec_prefixes(doc)
    join = prefixes.get("join")
    if join is None:
        raise SupergraphError("supergraph has no @link to the join spec")
    subgraphs = _graphs(doc, join)
    for node in doc.definitions:
        if isinstance(node, TypeDefinitionNode) and not node.name.value.startswith(
            (join + "__", "link__")
        ):
            _read_type(node, join, subgraphs)
    for sg in subgraphs.values():
        _fill_possible(sg)
    try:
        schema = build_ast_schema(doc, assume_valid_sdl=True)
        api = build_api_schema(doc, prefixes)
    except Exception as exc:
        raise SupergraphError(f"supergraph schema is invalid: {exc}") from exc
    possible: dict[str, set[str]] = {}
    interfaces_of: dict[str, set[str]] = {}
    from graphql import GraphQLInterfaceType, GraphQLObjectType, GraphQLUnionType

    for name, t in schema.type_map.items():
        if isinstance(t, GraphQLInterfaceType | GraphQLUnionType):
            possible[name] = {o.name for o in schema.get_possible_types(t)}
        elif isinstance(t, GraphQLObjectType):
            interfaces_of[name] = {i.name for i in t.interfaces}
    return Supergraph(
        sdl=sdl,
        schema=schema,
        api_schema=api,
        subgraphs=subgraphs,
        possible=possible,
        interfaces_of=interfaces_of,
        version=hashlib.sha256(sdl.encode()).hexdigest()[:16],
        costs=read_costs(doc),
    )


def _graphs(doc: DocumentNode, join: str) -> dict[str, Subgraph]:
    out: dict[str, Subgraph] = {}
    for node in doc.definitions:
        if isinstance(node, EnumTypeDefinitionNode) and node.name.value == join + "__Graph":
            for v in node.values or ():
                for a in _directives(v, join + "__graph"):
                    out[v.name.value] = Subgraph(
                        id=v.name.value, name=str(a["name"]), url=str(a["url"])
                    )
    if not out:
        raise SupergraphError("supergraph declares no subgraphs (join__Graph)")
    return out


def _read_type(node: TypeDefinitionNode, join: str, subgraphs: dict[str, Subgraph]) -> None:
    name = node.name.value
    kind = _KINDS.get(type(node))
    if kind is None:
        return
    jtypes = list(_directives(node, join + "__type"))
    graphs_with_type: list[str] = []
    for a in jtypes:
        gid = str(a["graph"])
        sg = subgraphs.get(gid)
        if sg is None:
            continue
        t = sg.types.get(name)
        if t is None:
            t = sg.types[name] = TypeInGraph(name=name, kind=kind)
            graphs_with_type.append(gid)
        if a.get("isInterfaceObject") is True:
            t.interface_object = True
            t.kind = "object"
        if a.get("extension") is True:
            t.extension = True
        key = a.get("key")
        if isinstance(key, str):
            t.keys.append(Key(key, parse_field_set(key), a.get("resolvable") is not False))
    if not jtypes:
        # No join__type at all: a type every subgraph shares (e.g. a custom scalar).
        graphs_with_type = list(subgraphs)
        for gid in graphs_with_type:
            subgraphs[gid].types[name] = TypeInGraph(name=name, kind=kind)
    if isinstance(node, ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode):
        _read_fields(node, join, subgraphs, graphs_with_type)
        impls = list(_directives(node, join + "__implements"))
        if impls:
            for a in impls:
                t = subgraphs[str(a["graph"])].types.get(name)
                if t is not None:
                    t.interfaces.add(str(a["interface"]))
        else:
            for gid in graphs_with_type:
                subgraphs[gid].types[name].interfaces.update(
                    i.name.value for i in node.interfaces or ()
                )
    elif isinstance(node, UnionTypeDefinitionNode):
        members = list(_directives(node, join + "__unionMember"))
        if members:
            for a in members:
                t = subgraphs[str(a["graph"])].types.get(name)
                if t is not None:
                    t.members.add(str(a["member"]))
        else:
            for gid in graphs_with_type:
                subgraphs[gid].types[name].members.update(m.name.value for m in node.types or ())
    elif isinstance(node, EnumTypeDefinitionNode):
        for v in node.values or ():
            graphs = [str(a["graph"]) for a in _directives(v, join + "__enumValue")]
            for gid in graphs or graphs_with_type:
                t = subgraphs[gid].types.get(name)
                if t is not None:
                    t.enum_values.add(v.name.value)


def _read_fields(
    node: ObjectTypeDefinitionNode | InterfaceTypeDefinitionNode,
    join: str,
    subgraphs: dict[str, Subgraph],
    graphs_with_type: list[str],
) -> None:
    name = node.name.value
    for fdef in node.fields or ():
        fname = fdef.name.value
        stype = print_ast(fdef.type)
        jfields = list(_directives(fdef, join + "__field"))
        if not jfields:
            for gid in graphs_with_type:
                subgraphs[gid].types[name].fields[fname] = FieldInGraph(fname, stype)
            continue
        for a in jfields:
            graph = a.get("graph")
            if graph is None or str(graph) not in subgraphs:
                continue
            t = subgraphs[str(graph)].types.get(name)
            if t is None:
                continue
            requires = a.get("requires")
            provides = a.get("provides")
            override = a.get("override")
            t.fields[fname] = FieldInGraph(
                name=fname,
                type=str(a.get("type") or stype),
                external=a.get("external") is True,
                requires=parse_field_set(requires) if isinstance(requires, str) else None,
                provides=parse_field_set(provides) if isinstance(provides, str) else None,
                override_from=override if isinstance(override, str) else None,
                used_overridden=a.get("usedOverridden") is True,
            )


def _fill_possible(sg: Subgraph) -> None:
    for t in sg.types.values():
        if t.kind == "object":
            for i in t.interfaces:
                sg.possible.setdefault(i, set()).add(t.name)
        elif t.kind == "union":
            sg.possible.setdefault(t.name, set()).update(m for m in t.members if m in sg.types)
