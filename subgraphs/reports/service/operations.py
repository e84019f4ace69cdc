"""A template's operation: parsed, validated against the API schema, and its paths analysed.

A template is saved only when running it can work: the operation is one
query that validates against the router's API schema (what a client of the
router may send), the rows path and every column are response paths the
operation selects, and a connection on the way to the rows can be paged
(`after: $after` and `pageInfo { hasNextPage endCursor }`), because the
runner follows every page. Paths are dot-joined response keys (aliases
count, as in the answer the runner reads); lists on the way are walked
through, so `charters.edges.node` names each charter. A cell holds one
value, so a column may not run through a list below its row.

`check` returns every problem at once, each on the input field at fault;
the same check re-run against a new schema tells which saved templates a
schema change broke.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLString,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_leaf_type,
    parse,
    print_ast,
    validate,
)

from router.gateway import VALIDATION_RULES
from subgraphs.kit.errors import Problem
from subgraphs.reports.error_codes import ReportsErrorCode as Code
from subgraphs.reports.service import variables as V

FORMATS = ("text", "money", "number", "date", "datetime", "percent")
FUNCTIONS = ("sum", "count", "average", "min", "max")
#: Leaf types sum, average, min and max work on (exactly: Decimal underneath).
NUMBER_TYPES = frozenset({"Int", "Float", "Money", "Decimal"})
EDGES = "edges"
MAX_MESSAGES = 3


@dataclass(frozen=True)
class Column:
    path: str
    label: str = ""
    format: str = "text"


@dataclass(frozen=True)
class Aggregation:
    column: str
    function: str


@dataclass(frozen=True)
class Definition:
    """What a template says about its operation and its answer (the stored JSON shapes)."""

    operation: str
    rows_path: str
    columns: Sequence[Column] = ()
    variables: Mapping[str, Any] = field(default_factory=dict)
    group_by: Sequence[str] = ()
    aggregations: Sequence[Aggregation] = ()

    @classmethod
    def of_row(cls, row: Any) -> Definition:
        """From a stored template (`models.ReportTemplate` or the same attributes)."""
        return cls(
            operation=row.operation,
            rows_path=row.rows_path,
            columns=[
                Column(c.get("path", ""), c.get("label", ""), c.get("format", "text"))
                for c in row.columns or ()
            ],
            variables=dict(row.variables or {}),
            group_by=list(row.group_by or ()),
            aggregations=[
                Aggregation(a.get("column", ""), a.get("function", ""))
                for a in row.aggregations or ()
            ],
        )


@dataclass(frozen=True)
class Analysis:
    """A valid operation: its declared variables (name -> type) and selected paths (-> type)."""

    document: DocumentNode
    operation: OperationDefinitionNode
    declared: dict[str, str]
    paths: dict[str, GraphQLOutputType]

    def through_list(self, path: str, start: int = 0) -> str | None:
        """The first list-typed prefix of `path` beyond its first `start` segments, if any."""
        parts = path.split(".")
        for end in range(start + 1, len(parts)):
            prefix = ".".join(parts[:end])
            if _is_list(self.paths.get(prefix)):
                return prefix
        return None


class InvalidOperation(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _is_list(t: GraphQLOutputType | None) -> bool:
    if isinstance(t, GraphQLNonNull):
        t = t.of_type
    return isinstance(t, GraphQLList)


def connection_path(rows_path: str) -> str | None:
    """The connection the rows are paged through (`charters` of `charters.edges.node`), if any."""
    parts = rows_path.split(".")
    if EDGES not in parts[1:]:
        return None
    return ".".join(parts[: parts.index(EDGES, 1)])


def _messages(errors: Iterable[GraphQLError]) -> str:
    found = [e.message for e in errors]
    more = f" (and {len(found) - MAX_MESSAGES} more)" if len(found) > MAX_MESSAGES else ""
    return " ".join(found[:MAX_MESSAGES]) + more


def analyse(schema: GraphQLSchema, text: str) -> Analysis:
    """Parse and validate `text` as one query; raises InvalidOperation with graphql-core's words."""
    try:
        document = parse(text)
    except GraphQLError as exc:
        raise InvalidOperation(exc.message) from exc
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations) != 1:
        raise InvalidOperation(f"Exactly one operation, not {len(operations)}.")
    operation = operations[0]
    if operation.operation is not OperationType.QUERY:
        raise InvalidOperation(f"A report reads: a query, not a {operation.operation.value}.")
    errors = validate(schema, document, VALIDATION_RULES)
    if errors:
        raise InvalidOperation(_messages(errors))
    declared = {
        d.variable.name.value: print_ast(d.type) for d in operation.variable_definitions or ()
    }
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    paths: dict[str, GraphQLOutputType] = {}
    _collect(schema, schema.query_type, operation.selection_set, (), fragments, paths, frozenset())
    return Analysis(document, operation, declared, paths)


def _collect(
    schema: GraphQLSchema,
    parent: Any,
    selection_set: SelectionSetNode,
    prefix: tuple[str, ...],
    fragments: Mapping[str, FragmentDefinitionNode],
    out: dict[str, GraphQLOutputType],
    spread: frozenset[str],
) -> None:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            key = selection.alias.value if selection.alias else name
            if name.startswith("__"):
                out.setdefault(".".join((*prefix, key)), GraphQLNonNull(GraphQLString))
                continue
            if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
                continue
            definition = parent.fields.get(name)
            if definition is None:
                continue
            path = (*prefix, key)
            out.setdefault(".".join(path), definition.type)
            if selection.selection_set is not None:
                _collect(
                    schema,
                    get_named_type(definition.type),
                    selection.selection_set,
                    path,
                    fragments,
                    out,
                    spread,
                )
        elif isinstance(selection, InlineFragmentNode):
            on = _condition(schema, selection.type_condition, parent)
            _collect(schema, on, selection.selection_set, prefix, fragments, out, spread)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in spread:
                continue
            on = _condition(schema, fragment.type_condition, parent)
            _collect(schema, on, fragment.selection_set, prefix, fragments, out, spread | {name})


def _condition(schema: GraphQLSchema, node: NamedTypeNode | None, parent: Any) -> Any:
    return schema.get_type(node.name.value) if node is not None else parent


def _connection_field(analysis: Analysis, path: str) -> FieldNode | None:
    """The field node answering at `path` (the first one with that response key)."""
    nodes: list[FieldNode] = []
    selection_sets = [analysis.operation.selection_set]
    fragments = {
        d.name.value: d
        for d in analysis.document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    for key in path.split("."):
        nodes = []
        following: list[SelectionSetNode] = []
        for selection_set in selection_sets:
            for found in _fields_named(selection_set, key, fragments, set()):
                nodes.append(found)
                if found.selection_set is not None:
                    following.append(found.selection_set)
        selection_sets = following
    return nodes[0] if nodes else None


def _fields_named(
    selection_set: SelectionSetNode,
    key: str,
    fragments: Mapping[str, FragmentDefinitionNode],
    seen: set[str],
) -> Iterable[FieldNode]:
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if (selection.alias or selection.name).value == key:
                yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields_named(selection.selection_set, key, fragments, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in fragments and name not in seen:
                seen.add(name)
                yield from _fields_named(fragments[name].selection_set, key, fragments, seen)


def _paging_problems(analysis: Analysis, rows_path: str) -> list[Problem]:
    connection = connection_path(rows_path)
    if connection is None:
        return []
    problems: list[str] = []
    if rows_path.split(".").count(EDGES) > 1:
        problems.append("the rows pass through one connection only")
    listed = analysis.through_list(connection)
    if listed is not None:
        problems.append(f"the connection `{connection}` is inside the list `{listed}`")
    node = _connection_field(analysis, connection)
    after = (
        next((a.value for a in node.arguments or () if a.name.value == "after"), None)
        if node
        else None
    )
    if not (isinstance(after, VariableNode) and after.name.value == "after"):
        problems.append(f"`{connection}` must take `after: $after`")
    if analysis.declared.get("after") != "String":
        problems.append("the operation must declare `$after: String`")
    for leaf in ("hasNextPage", "endCursor"):
        if f"{connection}.pageInfo.{leaf}" not in analysis.paths:
            problems.append(f"`{connection}` must select `pageInfo {{ hasNextPage endCursor }}`")
            break
    if not problems:
        return []
    return [
        Problem(
            Code.INVALID_OPERATION,
            f"To follow every page of `{connection}`: " + "; ".join(problems) + ".",
            "operation",
        )
    ]


def check(schema: GraphQLSchema, definition: Definition) -> list[Problem]:
    """Every problem with `definition` against `schema`, each on its input field."""
    try:
        analysis = analyse(schema, definition.operation)
    except InvalidOperation as exc:
        return [Problem(Code.INVALID_OPERATION, exc.message, "operation")]
    problems = V.default_problems(definition.variables, analysis.declared)
    rows = definition.rows_path.strip()
    rows_type = analysis.paths.get(rows)
    if rows_type is None or is_leaf_type(get_named_type(rows_type)):
        problems.append(
            Problem(
                Code.UNKNOWN_PATH,
                f"`{rows}` is not an object the operation selects "
                "(a dot path of response keys, e.g. `charters.edges.node`).",
                "rowsPath",
            )
        )
        return problems
    problems += _paging_problems(analysis, rows)
    problems += _column_problems(analysis, rows, definition)
    return problems


def _column_problems(analysis: Analysis, rows: str, definition: Definition) -> list[Problem]:
    problems: list[Problem] = []
    depth = len(rows.split("."))
    seen: set[str] = set()
    leaf_types: dict[str, str] = {}
    if not definition.columns:
        problems.append(Problem(Code.REQUIRED, "At least one column.", "columns"))
    for i, column in enumerate(definition.columns):
        where = f"columns.{i}.path"
        full = f"{rows}.{column.path}"
        found = analysis.paths.get(full)
        if column.path in seen:
            problems.append(Problem(Code.INVALID, f"`{column.path}` is listed twice.", where))
        elif found is None:
            problems.append(
                Problem(
                    Code.UNKNOWN_PATH,
                    f"`{column.path}` is not selected under the rows (`{rows}`).",
                    where,
                )
            )
        elif not is_leaf_type(get_named_type(found)):
            problems.append(
                Problem(
                    Code.UNKNOWN_PATH,
                    f"`{column.path}` is an object; name one of its fields.",
                    where,
                )
            )
        elif (listed := analysis.through_list(full, depth)) is not None or _is_list(found):
            problems.append(
                Problem(
                    Code.UNKNOWN_PATH,
                    f"`{column.path}` runs through the list "
                    f"`{(listed or full)[len(rows) + 1 :]}`; a cell holds one value.",
                    where,
                )
            )
        else:
            leaf_types[column.path] = get_named_type(found).name
        seen.add(column.path)
        if column.format not in FORMATS:
            problems.append(
                Problem(
                    Code.INVALID, f"A format: one of {', '.join(FORMATS)}.", f"columns.{i}.format"
                )
            )
    paths = [c.path for c in definition.columns]
    for i, path in enumerate(definition.group_by):
        if path not in paths:
            problems.append(
                Problem(Code.UNKNOWN_PATH, f"`{path}` is not one of the columns.", f"groupBy.{i}")
            )
    for i, aggregation in enumerate(definition.aggregations):
        if aggregation.function not in FUNCTIONS:
            problems.append(
                Problem(
                    Code.INVALID,
                    f"A function: one of {', '.join(FUNCTIONS)}.",
                    f"aggregations.{i}.function",
                )
            )
        if aggregation.column not in paths:
            problems.append(
                Problem(
                    Code.UNKNOWN_PATH,
                    f"`{aggregation.column}` is not one of the columns.",
                    f"aggregations.{i}.column",
                )
            )
        elif (
            aggregation.function not in ("count",)
            and aggregation.function in FUNCTIONS
            and aggregation.column in leaf_types
            and leaf_types[aggregation.column] not in NUMBER_TYPES
        ):
            problems.append(
                Problem(
                    Code.NOT_A_NUMBER,
                    f"{aggregation.function} needs a number or money; "
                    f"`{aggregation.column}` is {leaf_types[aggregation.column]}.",
                    f"aggregations.{i}.column",
                )
            )
    return problems


def declared_variables(text: str) -> dict[str, str]:
    """The variables a saved operation declares (name -> type), for checking parameters.

    Parsing only: a saved template's operation was valid when saved (and a
    broken one is not run).
    """
    try:
        document = parse(text)
    except GraphQLError:
        return {}
    return {
        d.variable.name.value: print_ast(d.type)
        for op in document.definitions
        if isinstance(op, OperationDefinitionNode)
        for d in op.variable_definitions or ()
    }
