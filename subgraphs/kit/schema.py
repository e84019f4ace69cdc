"""Every subgraph's schema is built the same way, so they compose cleanly."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from typing import Any, Final

import strawberry
from graphql import GraphQLError, GraphQLObjectType, default_field_resolver
from strawberry.extensions import SchemaExtension
from strawberry.federation.schema import FederationAny
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from subgraphs.kit.documents import CachedDocuments
from subgraphs.kit.errors import BadUserInputError
from subgraphs.kit.execution import READS, KitExecution
from subgraphs.kit.extensions import MaskInternalErrors
from subgraphs.kit.guard import ReadOnlyImpersonation, RefuseNulCharacters, SubgraphLimits
from subgraphs.kit.scalars import SCALAR_MAP

#: @theguild/federation-composition 0.27 refuses v2.11, Strawberry's default.
FEDERATION_VERSION: Final = "2.9"


class SubgraphSchema(strawberry.federation.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Expected errors are answers, not faults; `MaskInternalErrors` logs the faults."""

    def entities_resolver(
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        """`_entities`, with a malformed representation answered as bad input, not a fault.

        A router sends well-formed representations; anyone else (a fuzzer, a
        caller with the router's credential) may send one without its `id`,
        with a null or non-scalar `id`, or with fields the type does not take.
        Each such entry is a `BAD_USER_INPUT` error at its index; the others
        resolve as usual.
        """
        answers: list[Any] = [None] * len(representations)  # FederationAny or an error
        valid: list[tuple[int, Any]] = []
        for index, representation in enumerate(representations):
            problem = self._malformed(representation)
            if problem:
                answers[index] = BadUserInputError(f"Representation {index}: {problem}.")
            else:
                valid.append((index, representation))
        resolved = super().entities_resolver(info, [r for _, r in valid]) if valid else []
        for (index, _), answer in zip(valid, resolved, strict=True):
            bad = isinstance(answer, TypeError | KeyError)
            answers[index] = (
                BadUserInputError(f"Representation {index} does not fit its type.")
                if bad
                else answer
            )
        return answers

    def _malformed(self, representation: Any) -> str | None:
        if not isinstance(representation, dict):
            return "not an object"
        type_name = representation.get("__typename")
        if not isinstance(type_name, str) or type_name not in self.schema_converter.type_map:
            return "no known __typename"
        key = representation.get("id")
        if isinstance(key, bool) or not isinstance(key, str | int):
            return "no id"
        return None


#: A graphql-core field resolver: (source, info, **arguments) -> value or awaitable.
FieldResolver = Callable[..., Any]
#: Given (type name, field name, the field's resolver), the resolver to use instead.
FieldWrapper = Callable[[str, str, FieldResolver], FieldResolver]


def wrap_fields(schema: SubgraphSchema, type_names: Iterable[str], wrap: FieldWrapper) -> None:
    """Resolve every field of the named object types through `wrap`, decided once here.

    For a rule that concerns a few types (charters' field policy): a schema
    extension's `resolve` hook is middleware on every field of the schema,
    paid per field per request (and its wrappers rebuilt per request); this
    costs the other types nothing, and the wrapped fields one call. It holds
    for every execution of the schema: queries, mutations, subscription events.
    """
    seen: set[int] = set()
    for type_name in type_names:
        graphql_type = schema._schema.get_type(type_name)
        if not isinstance(graphql_type, GraphQLObjectType):
            raise ValueError(f"{type_name} is not an object type of this schema")
        for field_name, field in graphql_type.fields.items():
            if id(field) in seen:
                raise ValueError(f"{type_name}.{field_name} is shared with another wrapped type")
            seen.add(id(field))
            field.resolve = wrap(type_name, field_name, field.resolve or default_field_resolver)


def _direct_resolver(field: StrawberryField, info_class: type[Info]) -> FieldResolver | None:
    """A field's own resolver, called without Strawberry's per-call layers, when nothing is lost.

    For a resolver field with no GraphQL arguments and no field extension
    (no permission), Strawberry's wrapper converts no argument and runs no
    extension, yet costs a closure, an `Info`, an argument pass and (for an
    async resolver) one more coroutine per call: tens of thousands per
    second on a nested list. This passes `self`, `info`, `root` and
    `parent` exactly as Strawberry's `get_arguments` does, and returns what
    the resolver returns (a coroutine for an async one, awaited by graphql-core).
    """
    resolver = field.base_resolver
    if resolver is None or field.extensions or field.arguments or field.is_subscription:
        return None
    func = resolver.wrapped_func
    if not callable(func):
        return None  # Strawberry raises its own error for this at call time
    pass_self = resolver.self_parameter is not None
    info_name = resolver.info_parameter.name if resolver.info_parameter else None
    sources = tuple(
        p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p is not None
    )

    def direct(source: Any, info: Any, **_arguments: Any) -> Any:
        kwargs: dict[str, Any] = dict.fromkeys(sources, source) if sources else {}
        if info_name is not None:
            kwargs[info_name] = info_class(_raw_info=info, _field=field)
        return func(source, **kwargs) if pass_self else func(**kwargs)

    direct._is_default = False  # type: ignore[attr-defined]  # as Strawberry marks its own
    reads = getattr(func, READS, None)  # given by `kit.execution.reads_first`
    if reads is None and pass_self and info_name is None and not sources and not resolver.is_async:
        reads = func  # a function of its object alone: no resolve info needed
    if reads is not None:
        setattr(direct, READS, reads)
    return direct


def _resolve_fields_directly(schema: SubgraphSchema) -> None:
    """Every eligible field of every object type resolves directly.

    A plain field through `attribute_resolver`, a resolver field through `_direct_resolver`.
    """
    converter = schema.schema_converter
    if converter._exception_handler_specs:
        return  # handlers turn exceptions into results inside Strawberry's wrapper
    names = schema.config.name_converter
    reads_attributes = schema.config.default_resolver is getattr
    for concrete in list(converter.type_map.values()):
        definition, implementation = concrete.definition, concrete.implementation
        if not isinstance(implementation, GraphQLObjectType) or not isinstance(
            definition, StrawberryObjectDefinition
        ):
            continue
        for field in definition.fields:
            graphql_field = implementation.fields.get(names.get_graphql_name(field))
            if graphql_field is None:
                continue
            default = getattr(graphql_field.resolve, "_is_default", None)
            if default is True and field.base_resolver is None and reads_attributes:
                graphql_field.resolve = attribute_resolver(field.python_name)
            elif default is False:
                direct = _direct_resolver(field, schema.config.info_class)
                if direct is not None:
                    graphql_field.resolve = direct


def attribute_resolver(name: str) -> FieldResolver:
    """A plain field: the source's attribute, as Strawberry's default resolver reads it.

    Strawberry reaches it through two more calls per value; `kit/execution.py`
    reads `READS` and skips building the resolve info too.
    """

    def attribute(source: Any, _info: Any, **_arguments: Any) -> Any:
        return getattr(source, name)

    attribute._is_default = True  # type: ignore[attr-defined]  # as Strawberry marks its own
    setattr(attribute, READS, operator.attrgetter(name))
    return attribute


def build_schema(
    query: type,
    mutation: type | None = None,
    subscription: type | None = None,
    types: Iterable[type] = (),
    extensions: Iterable[type[SchemaExtension]] = (),
) -> SubgraphSchema:
    """The kit's extensions run first (error masking, documents, limits, impersonation)."""
    schema = SubgraphSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        types=list(types),
        extensions=[
            MaskInternalErrors,
            CachedDocuments,
            SubgraphLimits,
            RefuseNulCharacters,
            ReadOnlyImpersonation,
            *extensions,
        ],
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        federation_version=FEDERATION_VERSION,
        execution_context_class=KitExecution,
    )
    _resolve_fields_directly(schema)
    return schema
