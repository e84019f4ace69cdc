"""Every subgraph's schema is built the same way, so they compose cleanly."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.federation.schema import FederationAny
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from subgraphs.kit.errors import BadUserInputError
from subgraphs.kit.event_sharing import SharedEventExecution
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


def build_schema(
    query: type,
    mutation: type | None = None,
    subscription: type | None = None,
    types: Iterable[type] = (),
    extensions: Iterable[type[SchemaExtension]] = (),
) -> SubgraphSchema:
    """The kit's extensions run first (error masking, limits, read-only impersonation)."""
    return SubgraphSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        types=list(types),
        extensions=[
            MaskInternalErrors,
            SubgraphLimits,
            RefuseNulCharacters,
            ReadOnlyImpersonation,
            *extensions,
        ],
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        federation_version=FEDERATION_VERSION,
        execution_context_class=SharedEventExecution,
    )
