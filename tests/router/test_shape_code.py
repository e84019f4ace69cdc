"""The generated shapers complete values exactly as graphql-core's own execution does.

Shaping (`router/execution/shaping.py`, with the Python generated per
selection and runtime type in `shape_code.py`) reimplements GraphQL's value
completion for speed; graphql-core's `execute_sync` over the same data, read
by response key, is the reference. Random data trees for a fixed set of
operations put nulls, missing keys and unknown enum values everywhere, and
the two must agree on `data` (key order included) and on where the errors
are. Values of the wrong shape (a dict where a list belongs, a list where an
object belongs, an unknown `__typename`) are worded differently on purpose,
and a nullable place nulls them silently in the router, so for them only
`data` is compared, and every error the router does report must be one
graphql-core reports at the same path.
"""

from __future__ import annotations

import linecache
import re
import traceback
from functools import cache
from typing import Any

import pytest
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    build_schema,
    execute_sync,
    parse,
    validate,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from router.execution.merge import LinkedPath
from router.execution.shaping import SelectionShape, ShapeCompiler, Shaper

SDL = """
enum Color { RED GREEN BLUE }

interface Node { id: ID! name: String }
type Person implements Node { id: ID! name: String age: Int color: Color! friends: [Node!] }
type Robot implements Node { id: ID! name: String model: String! parts: [Part] }
type Part { label: String! weight: Float }

union Thing = Book | Movie
type Book { title: String! pages: Int }
type Movie { headline: String minutes: Int! genre: Color }

type Level1 { n: Int! l2: Level2 l2s: [Level2!]! }
type Level2 { s: String l3: Level3! }
type Level3 { b: Boolean! color: Color tags: [String!] }

type Query {
  s: String
  sNN: String!
  i: Int
  iNN: Int!
  f: Float
  b: Boolean
  ints: [Int]
  intsNN: [Int!]
  grid: [[Int!]]
  gridNN: [[Int]!]!
  color: Color
  colorNN: Color!
  colors: [Color!]
  colorsNN: [Color]!
  top: Level1
  topNN: Level1!
  levels: [Level1!]!
  node: Node
  nodes: [Node]
  thing: Thing
  things: [Thing!]
}
"""

#: the non-null root fields sit behind @include/@skip so that most answers keep their data
OPERATIONS = [
    """
    query Scalars($a: Boolean!, $b: Boolean!) {
      s i f b ints intsNN grid color colors
      sNN @include(if: $a)
      iNN @skip(if: $b)
      gridNN @include(if: $b)
      colorNN @include(if: $a)
      colorsNN @skip(if: $a)
      again: ints
      __typename
    }
    """,
    """
    query Nested($a: Boolean!, $b: Boolean!) {
      top { n l2 { s l3 { b color tags } } l2s { ...L2 } }
      other: top { n @skip(if: $b) first: l2 { l3 { color } } l2 { s } }
      levels @include(if: $a) { n l2s { s l3 { b __typename } } }
      topNN @include(if: $b) { l2 { l3 { tags } } }
    }
    fragment L2 on Level2 { s l3 { b tags } }
    """,
    """
    query Abstract($a: Boolean!, $b: Boolean!) {
      node {
        __typename id ...NodeBits
        ... on Person { age color friends { id ... on Robot { model } ...NodeBits } }
      }
      nodes {
        name
        ... on Robot @include(if: $a) { model parts { label weight } }
        ... on Node @skip(if: $b) { id }
        ... on Person { ... on Node { kind: __typename } }
      }
      thing { __typename ... on Book { title pages } ...MovieBits }
      things @skip(if: $b) { ... on Movie { minutes } ... on Book { pages title } }
    }
    fragment NodeBits on Node { name }
    fragment MovieBits on Movie { headline minutes genre }
    """,
    """
    query Mixed($a: Boolean!, $b: Boolean!) {
      ... on Query @include(if: $a) { top { l2s { l3 { color } } } }
      ...Roots @skip(if: $b)
      things { __typename ... on Book @include(if: $b) { title } }
      node { ... on Robot { parts { label } } }
    }
    fragment Roots on Query { top { n } colors levels { l2 { s } } }
    """,
]

Info = GraphQLResolveInfo[Any]
SCHEMA = build_schema(SDL)
DOCUMENTS: list[DocumentNode] = [parse(op) for op in OPERATIONS]
for _doc in DOCUMENTS:
    assert validate(SCHEMA, _doc) == [], _doc


def _is_dict(value: Any, _info: Info) -> bool:
    return isinstance(value, dict)


def _by_typename(value: Any, _info: Info, _type: Any) -> Any:
    return value.get("__typename") if isinstance(value, dict) else None


# graphql-core as the router sees data: an object is a dict, an abstract type's
# runtime type is its __typename (anything else is an error and a null).
for _t in SCHEMA.type_map.values():
    if isinstance(_t, GraphQLObjectType) and not _t.name.startswith("__"):
        _t.is_type_of = _is_dict
    elif isinstance(_t, GraphQLInterfaceType | GraphQLUnionType):
        _t.resolve_type = _by_typename


def _by_response_key(source: Any, info: Info, **_args: Any) -> Any:
    """The router's merged data is keyed by response key (aliases included)."""
    return source.get(info.path.key)


def _operation(doc: DocumentNode) -> OperationDefinitionNode:
    return next(d for d in doc.definitions if isinstance(d, OperationDefinitionNode))


def _fragments(doc: DocumentNode) -> dict[str, FragmentDefinitionNode]:
    return {d.name.value: d for d in doc.definitions if isinstance(d, FragmentDefinitionNode)}


@cache
def _shape(op: int, a: bool, b: bool) -> SelectionShape:
    """One compiled shape per (operation, variables), as the gateway caches one per plan."""
    doc = DOCUMENTS[op]
    compiler = ShapeCompiler(SCHEMA, _fragments(doc), {"a": a, "b": b})
    query = SCHEMA.query_type
    assert query is not None
    return compiler.root(query, _operation(doc).selection_set)


# ---------------------------------------------------------------- data trees

SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "String": st.sampled_from(["x", "", "y z"]),
    "ID": st.sampled_from(["1", "a-2"]),
    "Int": st.integers(-5, 5),
    "Float": st.sampled_from([0.5, -2.25, 1e3]),
    "Boolean": st.booleans(),
}
ENUM_VALUES = ["RED", "GREEN", "BLUE", "PURPLE", "red"]  # the last two are not Color's


def _applies(cond: str, runtime: GraphQLObjectType) -> bool:
    t = SCHEMA.get_type(cond)
    if t is runtime:
        return True
    return isinstance(t, GraphQLInterfaceType | GraphQLUnionType) and SCHEMA.is_sub_type(t, runtime)


def _fields(
    runtime: GraphQLObjectType,
    sets: list[SelectionSetNode],
    fragments: dict[str, FragmentDefinitionNode],
    out: dict[str, tuple[GraphQLOutputType, list[SelectionSetNode]]],
) -> dict[str, tuple[GraphQLOutputType, list[SelectionSetNode]]]:
    """Every response key the operation may ask of `runtime`, directives ignored."""
    for ss in sets:
        for s in ss.selections:
            if isinstance(s, FieldNode):
                name = s.name.value
                if name == "__typename":
                    continue
                key = s.alias.value if s.alias else name
                field_type, sub = out.get(key, (runtime.fields[name].type, []))
                if s.selection_set is not None:
                    sub = [*sub, s.selection_set]
                out[key] = (field_type, sub)
            elif isinstance(s, InlineFragmentNode):
                if s.type_condition is None or _applies(s.type_condition.name.value, runtime):
                    _fields(runtime, [s.selection_set], fragments, out)
            elif isinstance(s, FragmentSpreadNode):
                frag = fragments[s.name.value]
                if _applies(frag.type_condition.name.value, runtime):
                    _fields(runtime, [frag.selection_set], fragments, out)
    return out


class _Gen:
    """Draws one data tree for an operation; `wrong` adds values of the wrong shape."""

    def __init__(self, draw: Any, fragments: dict[str, FragmentDefinitionNode], wrong: bool):
        self.draw = draw
        self.fragments = fragments
        self.wrong = wrong
        # rates per tree: some trees are mostly holes, some complete deep down
        self.null_one_in = draw(st.sampled_from([1000, 20, 6, 3]))
        self.missing_one_in = draw(st.sampled_from([1000, 10, 4]))
        self.misfit_one_in = draw(st.sampled_from([15, 6, 3]))
        # an entity's answer merged into several objects is one value in each:
        # the shaper shapes such a value once unless shaping it reported anything
        self.share_one_in = draw(st.sampled_from([1000, 4, 2]))
        self.shared: dict[str, list[Any]] = {}

    def chance(self, one_in: int) -> bool:
        """True once in `one_in` draws: hypothesis favours the bounds, so test the middle."""
        return bool(self.draw(st.integers(0, one_in - 1)) == one_in // 2)

    def value(self, t: GraphQLOutputType, sets: list[SelectionSetNode]) -> Any:
        if isinstance(t, GraphQLNonNull):
            t = t.of_type  # a non-null place gets nulls too: that is the point
        if self.chance(self.null_one_in):
            return None
        if self.wrong and self.chance(self.misfit_one_in):
            return self.misfit(t)
        if isinstance(t, GraphQLScalarType | GraphQLEnumType):
            return self.leaf(t)
        # shared within a type, across selections: what one selection did not
        # ask for is missing (null) under another
        seen = self.shared.setdefault(str(t), [])
        if seen and self.chance(self.share_one_in):
            return seen[self.draw(st.integers(0, len(seen) - 1))]  # the same object again
        value = self.composite(t, sets)
        seen.append(value)
        return value

    def leaf(self, t: GraphQLScalarType | GraphQLEnumType) -> Any:
        if isinstance(t, GraphQLEnumType):
            return self.draw(st.sampled_from(ENUM_VALUES))
        return self.draw(SCALARS[t.name])

    def composite(self, t: GraphQLOutputType, sets: list[SelectionSetNode]) -> Any:
        if isinstance(t, GraphQLList):
            return [self.value(t.of_type, sets) for _ in range(self.draw(st.integers(0, 3)))]
        if isinstance(t, GraphQLObjectType):
            return self.object(t, sets, typename=self.chance(2))
        assert isinstance(t, GraphQLInterfaceType | GraphQLUnionType)
        runtime = self.draw(st.sampled_from(sorted(SCHEMA.get_possible_types(t), key=str)))
        return self.object(runtime, sets, typename=True)

    def object(
        self, runtime: GraphQLObjectType, sets: list[SelectionSetNode], typename: bool
    ) -> dict[str, Any]:
        obj: dict[str, Any] = {"__typename": runtime.name} if typename else {}
        for key, (t, sub) in _fields(runtime, sets, self.fragments, {}).items():
            if not self.chance(self.missing_one_in):  # else the key is missing
                obj[key] = self.value(t, sub)
        if self.chance(4):
            obj["_planner_key"] = "dropped"
        return obj

    def misfit(self, t: GraphQLOutputType) -> Any:
        """A value no completion of `t` accepts.

        Not for scalars (the router passes them through, as a subgraph's
        serialized scalar), and never an interface object without a known
        __typename: the router shapes that as the interface itself (an
        @interfaceObject answer), which graphql-core cannot know about.
        """
        if isinstance(t, GraphQLList):
            return self.draw(st.sampled_from([{"0": 1}, "list", 7]))
        if isinstance(t, GraphQLEnumType):
            return self.draw(st.sampled_from([3, ["RED"], {"RED": 1}, True]))
        if isinstance(t, GraphQLUnionType):
            return self.draw(st.sampled_from([{"__typename": "Alien"}, {}, {"__typename": None}]))
        if isinstance(t, GraphQLInterfaceType):
            return self.draw(st.sampled_from([{"__typename": "Alien"}, ["x"], "node"]))
        if isinstance(t, GraphQLObjectType):
            return self.draw(st.sampled_from([[], ["x"], "object", 0]))
        return None


@st.composite
def cases(draw: Any, wrong: bool) -> tuple[int, dict[str, bool], dict[str, Any]]:
    op = draw(st.sampled_from(range(len(DOCUMENTS))))
    variables = {"a": draw(st.booleans()), "b": draw(st.booleans())}
    doc = DOCUMENTS[op]
    query = SCHEMA.query_type
    assert query is not None
    gen = _Gen(draw, _fragments(doc), wrong)
    data = gen.object(query, [_operation(doc).selection_set], typename=False)
    return op, variables, data


# ---------------------------------------------------------------- comparing


def _ordered(v: Any) -> Any:
    """JSON order matters: a response's keys follow the operation."""
    if isinstance(v, dict):
        return [(k, _ordered(x)) for k, x in v.items()]
    if isinstance(v, list):
        return [_ordered(x) for x in v]
    return v


def _both(
    op: int, variables: dict[str, bool], data: dict[str, Any]
) -> tuple[Any, list[dict[str, Any]], ExecutionResult]:
    expected = execute_sync(
        SCHEMA,
        DOCUMENTS[op],
        root_value=data,
        variable_values=variables,
        field_resolver=_by_response_key,
    )
    errors: list[dict[str, Any]] = []
    shaped = Shaper(errors).shape_root(_shape(op, variables["a"], variables["b"]), data)
    return shaped, errors, expected


PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None)


@PROPERTY
@given(cases(wrong=False))
def test_shaper_completes_values_like_graphql_core(
    case: tuple[int, dict[str, bool], dict[str, Any]],
) -> None:
    op, variables, data = case
    shaped, errors, expected = _both(op, variables, data)
    assert _ordered(shaped) == _ordered(expected.data)
    ours = sorted((tuple(e["path"]) for e in errors), key=repr)
    theirs = sorted((tuple(e.path or ()) for e in expected.errors or ()), key=repr)
    assert ours == theirs, "one error per place, where graphql-core puts it"
    by_path = {tuple(e["path"]): e["message"] for e in errors}
    for e in expected.errors or ():
        ours_message = by_path[tuple(e.path or ())]
        if e.message.startswith("Cannot return null"):
            assert ours_message == e.message
        else:
            assert e.message.startswith("Enum 'Color' cannot represent value")
            # worded with the field's label, not the enum's name (wording may differ)
            assert re.match(r'Enum "\w+\.\w+" cannot represent value', ours_message)
    for ours_error in errors:
        assert ours_error["extensions"] == {"code": "RESPONSE_VALIDATION_FAILED"}


@PROPERTY
@given(cases(wrong=True))
def test_values_of_the_wrong_shape_complete_to_the_same_data(
    case: tuple[int, dict[str, bool], dict[str, Any]],
) -> None:
    op, variables, data = case
    shaped, errors, expected = _both(op, variables, data)
    assert _ordered(shaped) == _ordered(expected.data)
    theirs = {tuple(e.path or ()) for e in expected.errors or ()}
    assert {tuple(e["path"]) for e in errors} <= theirs


def test_a_subgraph_error_on_the_path_stands_for_the_null() -> None:
    """The subgraph already said why the value is missing: no second error, still a bubble."""
    subgraph_error = {"message": "boom", "path": ["top", "l2s", 1]}
    errors: list[dict[str, Any]] = [subgraph_error]
    data = {"top": {"n": 1, "l2": None, "l2s": [{"s": "a", "l3": {"b": True}}, None]}}
    shaped = Shaper(errors).shape_root(_shape(1, False, False), data)
    assert shaped == {"top": None, "other": None}
    assert errors == [subgraph_error]

    errors = [{"message": "boom", "path": ["top"]}]
    Shaper(errors).shape_root(_shape(1, False, False), data)
    assert len(errors) == 1, "an error at an ancestor covers the nulls under it"

    errors = [{"message": "boom", "path": ["other", "l2s", 1]}]
    Shaper(errors).shape_root(_shape(1, False, False), data)
    assert [e["path"] for e in errors] == [["other", "l2s", 1], ["top", "l2s", 1]]


# ---------------------------------------------------------------- generated code


def _field_shape(shape: SelectionShape, runtime: str, key: str) -> SelectionShape:
    t = SCHEMA.get_type(runtime)
    assert isinstance(t, GraphQLObjectType)
    field = next(f for f in shape.fields_for(t) if f.key == key)
    assert field.info is not None
    info = field.info
    while info.shape is None:
        assert info.item is not None
        info = info.item
    return info.shape


class _Raising(Shaper):
    def null_error(self, path: LinkedPath, label: str) -> None:
        raise RuntimeError(label)


def test_generated_source_is_in_linecache_and_named_in_tracebacks() -> None:
    shape = _shape(1, True, False)
    data = {"top": {"n": 1, "l2": {"s": "x", "l3": {"b": None}}, "l2s": []}}
    with pytest.raises(RuntimeError) as raised:
        _Raising([]).shape_root(shape, data)
    frames = traceback.extract_tb(raised.value.__traceback__)
    generated = [f for f in frames if f.filename.startswith("<shape ")]
    assert [re.sub(r"#\d+>$", "#n>", f.filename) for f in generated] == [
        "<shape Query#n>",
        "<shape Level1#n>",
        "<shape Level2#n>",
        "<shape Level3#n>",
    ]
    innermost = generated[-1]
    assert innermost.lineno is not None
    assert "sh.null_error" in linecache.getline(innermost.filename, innermost.lineno)
    assert linecache.getlines(innermost.filename)[0].startswith("def shape(obj, path, sh):")


def test_a_selection_shaped_twice_reuses_its_compiled_functions() -> None:
    shape = _shape(1, True, True)
    data = {"top": {"n": 1, "l2": {"s": "x", "l3": {"b": True}}, "l2s": []}, "topNN": {}}
    first_out = Shaper([]).shape_root(shape, data)
    query = SCHEMA.query_type
    assert query is not None
    root_fn = shape.compiled["Query"]
    level3 = _field_shape(
        _field_shape(_field_shape(shape, "Query", "top"), "Level1", "l2"), "Level2", "l3"
    )
    level3_fn = level3.compiled["Level3"]
    assert Shaper([]).shape_root(shape, data) == first_out
    assert shape.compiled["Query"] is root_fn
    assert shape.shaper_for(query) is root_fn
    assert level3.compiled["Level3"] is level3_fn
    assert _shape(1, True, True) is shape


def test_abstract_types_compile_one_function_per_runtime_type_seen() -> None:
    shape = ShapeCompiler(SCHEMA, _fragments(DOCUMENTS[2]), {"a": True, "b": False}).root(
        SCHEMA.query_type,  # type: ignore[arg-type]
        _operation(DOCUMENTS[2]).selection_set,
    )
    Shaper([]).shape_root(shape, {})
    thing = _field_shape(shape, "Query", "thing")
    things = _field_shape(shape, "Query", "things")
    assert thing.compiled == {}
    assert things.compiled == {}

    book = {"__typename": "Book", "title": "T", "pages": 3}
    out = Shaper([]).shape_root(shape, {"thing": book, "things": [book, book]})
    assert out is not None
    assert out["thing"] == {"__typename": "Book", "title": "T", "pages": 3}
    assert set(thing.compiled) == {"Book"}
    assert set(things.compiled) == {"Book"}
    book_fn = things.compiled["Book"]

    movie = {"__typename": "Movie", "minutes": 90, "headline": "H"}
    out = Shaper([]).shape_root(shape, {"thing": movie, "things": [movie, book]})
    assert out is not None
    assert out["things"] == [{"minutes": 90}, {"pages": 3, "title": "T"}]
    assert set(thing.compiled) == {"Book", "Movie"}
    assert set(things.compiled) == {"Book", "Movie"}
    assert things.compiled["Book"] is book_fn
    assert book_fn is not things.compiled["Movie"]
