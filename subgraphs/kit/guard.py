"""A subgraph's own guards, for the requests that do not come through the router.

The router limits depth, aliases and cost and switches introspection off;
a subgraph reached directly (a leaked credential, a misrouted request, a
process on the private network) must not be an open door beside it. The
limits are read from the request's settings, so one schema serves apps
configured differently (tests, production).

Impersonated sessions are read-only (`kit/auth/impersonation.py`), and so
are tokens delegated to a service (`Viewer.delegate`): that is checked here,
once for every subgraph, not in each mutation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from graphql import (
    ExecutionResult,
    GraphQLError,
    Node,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
)
from graphql.validation import NoSchemaIntrospectionCustomRule, ValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as aliases_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator

from subgraphs.kit.auth.impersonation import (
    MUTATIONS_ALLOWED_WHILE_IMPERSONATING,
    NOT_ALLOWED_WHILE_IMPERSONATING,
)
from subgraphs.kit.documents import known_document

if TYPE_CHECKING:
    from graphql import FieldNode

    from subgraphs.kit.settings import Settings


class NoServiceSdlRule(ValidationRule):
    """`_service { sdl }` hands out the whole schema, like introspection."""

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        parent = self.context.get_parent_type()
        if node.name.value == "_service" and parent is self.context.schema.query_type:
            self.report_error(GraphQLError("_service is not available on this subgraph.", node))


@lru_cache(maxsize=8)
def _depth_rule(max_depth: int) -> type[ValidationRule]:
    return depth_validator(max_depth, None, None)


@lru_cache(maxsize=8)
def _aliases_rule(max_aliases: int) -> type[ValidationRule]:
    return aliases_validator(max_aliases)


def validation_rules(settings: Settings) -> tuple[type[ValidationRule], ...]:
    return _limit_rules(
        settings.subgraph_max_depth,
        settings.subgraph_max_aliases,
        bool(settings.subgraph_introspection),
    )


def _limit_rules(
    max_depth: int, max_aliases: int, introspection: bool
) -> tuple[type[ValidationRule], ...]:
    rules: list[type[ValidationRule]] = []
    if max_depth > 0:
        rules.append(_depth_rule(max_depth))
    if max_aliases > 0:
        rules.append(_aliases_rule(max_aliases))
    if not introspection:
        rules += [NoSchemaIntrospectionCustomRule, NoServiceSdlRule]
    return tuple(rules)


@lru_cache(maxsize=32)
def _with_limits(
    base: tuple[type[ValidationRule], ...], max_depth: int, max_aliases: int, introspection: bool
) -> tuple[type[ValidationRule], ...]:
    """One tuple object per (base rules, limits): the validation cache's key stays stable."""
    return (*base, *_limit_rules(max_depth, max_aliases, introspection))


class SubgraphLimits(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        settings = getattr(context, "settings", None)
        if settings is not None:
            self.execution_context.validation_rules = _with_limits(
                tuple(self.execution_context.validation_rules),
                settings.subgraph_max_depth,
                settings.subgraph_max_aliases,
                bool(settings.subgraph_introspection),
            )
        yield


def _root_fields(operation: OperationDefinitionNode) -> list[str]:
    # Fragments on the mutation root are rare; a spread counts as an unknown field.
    return [
        getattr(getattr(s, "name", None), "value", "") for s in operation.selection_set.selections
    ]


def _mutation(document: Any, name: str | None) -> OperationDefinitionNode | None:
    for definition in getattr(document, "definitions", ()):
        if isinstance(definition, OperationDefinitionNode) and (
            name is None or (definition.name and definition.name.value == name)
        ):
            return definition if definition.operation is OperationType.MUTATION else None
    return None


class ReadOnlyImpersonation(SchemaExtension):
    """Refuses a mutation from an impersonated session before anything runs."""

    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        operation = _mutation(ctx.graphql_document, ctx.operation_name)
        if operation is not None and hasattr(ctx.context, "get_viewer"):
            viewer = await ctx.context.get_viewer()
            refused = [
                f for f in _root_fields(operation) if f not in MUTATIONS_ALLOWED_WHILE_IMPERSONATING
            ]
            if viewer.is_delegated:
                # A delegation grant lets a service READ as its user (a scheduled
                # report); it never writes as them, not even a new grant for itself.
                ctx.result = ExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            f"A token delegated to {viewer.delegate} cannot make changes.",
                            extensions={"code": "FORBIDDEN"},
                        )
                    ],
                )
            elif viewer.is_impersonated and refused:
                ctx.result = ExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            "This session views the portal as a client and cannot make "
                            f"changes ({', '.join(refused)}); stop impersonating first.",
                            extensions={"code": NOT_ALLOWED_WHILE_IMPERSONATING},
                        )
                    ],
                )
        yield


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def _literal_has_nul(document: Any) -> bool:
    """A string literal in the operation itself (an escaped U+0000 decodes to a NUL)."""
    return document is not None and any(
        isinstance(node, StringValueNode) and "\x00" in node.value for node in _walk(document)
    )


def _document_has_nul(ctx: Any) -> bool:
    """`_literal_has_nul`, walked once per cached document (`kit/documents.py`)."""
    known = known_document(ctx)
    if known is None:
        return _literal_has_nul(ctx.graphql_document)
    if known.nul_literal is None:
        known.nul_literal = _literal_has_nul(known.document)
    return known.nul_literal


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for key in getattr(node, "keys", ()):
        child = getattr(node, key, None)
        if isinstance(child, Node):
            yield from _walk(child)
        elif isinstance(child, list | tuple):
            for item in child:
                if isinstance(item, Node):
                    yield from _walk(item)


class RefuseNulCharacters(SchemaExtension):
    """No text with U+0000 reaches a resolver: PostgreSQL cannot store it and would fail.

    Any string argument, as a variable or a literal, is checked once here, so
    every field and mutation refuses it the same way (`BAD_USER_INPUT`)
    instead of answering INTERNAL from deep in a query.
    """

    async def on_execute(self) -> AsyncIterator[None]:
        ctx = self.execution_context
        if _has_nul(ctx.variables) or _document_has_nul(ctx):
            ctx.result = ExecutionResult(
                data=None,
                errors=[
                    GraphQLError(
                        "Text may not contain the NUL character (U+0000).",
                        extensions={"code": "BAD_USER_INPUT"},
                    )
                ],
            )
        yield
