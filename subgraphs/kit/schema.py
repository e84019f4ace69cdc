"""Every subgraph's schema is built the same way, so they compose cleanly."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig

from subgraphs.kit.extensions import MaskInternalErrors
from subgraphs.kit.guard import ReadOnlyImpersonation, SubgraphLimits
from subgraphs.kit.scalars import SCALAR_MAP

#: @theguild/federation-composition 0.27 refuses v2.11, Strawberry's default.
FEDERATION_VERSION: Final = "2.9"


class SubgraphSchema(strawberry.federation.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Expected errors are answers, not faults; `MaskInternalErrors` logs the faults."""


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
        extensions=[MaskInternalErrors, SubgraphLimits, ReadOnlyImpersonation, *extensions],
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        federation_version=FEDERATION_VERSION,
    )
