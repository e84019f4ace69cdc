"""The public API schema templates are validated against: the router's own, from the supergraph.

A template must validate against exactly what a client of the router may
send, so the schema is derived by the router's code (`load_supergraph`,
which hides federation machinery and @inaccessible fields) with the router's
scalar input rules, never by a second SDL reader here. The checked-in
supergraph is what the deployed routers load; one parsed copy per process.
"""

from __future__ import annotations

import functools
from pathlib import Path

from graphql import GraphQLSchema

from protocol.scalars import INPUT_RULES
from router.supergraph.api_schema import check_scalar_inputs
from router.supergraph.load import load_supergraph

SUPERGRAPH = Path(__file__).resolve().parents[3] / "schema" / "supergraph.graphql"


def schema_of(sdl: str) -> GraphQLSchema:
    """The API schema of a supergraph document (tests build changed ones with it)."""
    schema = load_supergraph(sdl).api_schema
    check_scalar_inputs(schema, INPUT_RULES)
    return schema


@functools.cache
def api_schema() -> GraphQLSchema:
    return schema_of(SUPERGRAPH.read_text())
