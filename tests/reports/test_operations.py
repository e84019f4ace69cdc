"""A template's operation and paths checked against the router's API schema (no database).

Each failure names the input field and the code a client switches on;
graphql-core's own message is passed through for an operation that does
not validate.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLSchema

from subgraphs.reports.service import operations as O
from subgraphs.reports.service.api_schema import api_schema
from tests.reports.template_data import CHARTERS


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return api_schema()


def definition(**changes: Any) -> O.Definition:
    base: dict[str, Any] = {
        "operation": CHARTERS,
        "rows_path": "charters.edges.node",
        "columns": [O.Column("reference"), O.Column("status"), O.Column("quote.total")],
        "group_by": ["status"],
        "aggregations": [O.Aggregation("quote.total", "sum")],
    }
    return O.Definition(**{**base, **changes})


def found(schema: GraphQLSchema, **changes: Any) -> list[tuple[str | None, str]]:
    return [(p.field, str(p.code)) for p in O.check(schema, definition(**changes))]


def test_the_schema_is_the_routers_public_one(schema: GraphQLSchema) -> None:
    assert api_schema() is schema  # one copy per process
    query = schema.query_type
    assert query is not None
    assert "charters" in query.fields
    # federation machinery is not part of what a client may ask
    assert "_entities" not in query.fields
    assert "_service" not in query.fields


def test_a_valid_template_has_no_problems(schema: GraphQLSchema) -> None:
    assert O.check(schema, definition()) == []


@pytest.mark.parametrize(
    ("operation", "words"),
    [
        ("query { charters {", "Syntax Error"),
        ("mutation { logout { ok } }", "a query, not a mutation"),
        ("subscription { dispatchBoard { kind } }", "a query, not a subscription"),
        ("query A { me { id } } query B { me { id } }", "Exactly one operation, not 2"),
        ("query { chartrs { totalCount } }", "Cannot query field 'chartrs' on type 'Query'"),
        ('query { charters(first: "ten") { totalCount } }', "Int cannot represent"),
    ],
)
def test_an_operation_that_is_not_one_valid_query_is_refused(
    schema: GraphQLSchema, operation: str, words: str
) -> None:
    problems = O.check(schema, definition(operation=operation))
    assert [(p.field, p.code) for p in problems] == [("operation", "INVALID_OPERATION")]
    assert words in problems[0].message


def test_a_connection_must_be_pageable(schema: GraphQLSchema) -> None:
    unpaged = (
        "query { charters(first: 10) { edges { node { reference status quote { total } } } } }"
    )
    problems = O.check(schema, definition(operation=unpaged))
    assert [(p.field, p.code) for p in problems] == [("operation", "INVALID_OPERATION")]
    message = problems[0].message
    assert "`charters` must take `after: $after`" in message
    assert "declare `$after: String`" in message
    assert "pageInfo { hasNextPage endCursor }" in message
    # without a connection on the way, nothing is paged and nothing is asked
    single = "query($id: ID!) { charter(id: $id) { reference status quote { total } } }"
    assert O.check(schema, definition(operation=single, rows_path="charter")) == []


def test_paths_are_response_keys_through_aliases_and_fragments(schema: GraphQLSchema) -> None:
    operation = """
    query($after: String) {
      bookings: charters(after: $after) {
        pageInfo { hasNextPage endCursor }
        edges { node { ...Row ... on Charter { amount: quote { total } } } }
      }
    }
    fragment Row on Charter { ref: reference status }
    """
    assert (
        O.check(
            schema,
            definition(
                operation=operation,
                rows_path="bookings.edges.node",
                columns=[O.Column("ref"), O.Column("status"), O.Column("amount.total")],
                aggregations=[O.Aggregation("amount.total", "average")],
            ),
        )
        == []
    )
    assert O.connection_path("bookings.edges.node") == "bookings"


def test_rows_and_columns_must_be_selected(schema: GraphQLSchema) -> None:
    assert found(schema, rows_path="charters.nodes") == [("rowsPath", "UNKNOWN_PATH")]
    assert found(schema, rows_path="charters.edges.node.reference") == [
        ("rowsPath", "UNKNOWN_PATH")
    ]
    operation = CHARTERS.replace("quote { total }", "quote { total } vehicles { capacity }")
    assert found(
        schema,
        operation=operation,
        columns=[
            O.Column("reference"),
            O.Column("status"),
            O.Column("quote.total"),
            O.Column("pickupAt"),  # not selected
            O.Column("quote"),  # an object, not a value
            O.Column("vehicles.capacity"),  # one cell, many vehicles
            O.Column("reference"),  # twice
        ],
    ) == [
        ("columns.3.path", "UNKNOWN_PATH"),
        ("columns.4.path", "UNKNOWN_PATH"),
        ("columns.5.path", "UNKNOWN_PATH"),
        ("columns.6.path", "INVALID"),
    ]


def test_grouping_and_aggregations_name_columns_and_numbers(schema: GraphQLSchema) -> None:
    assert found(
        schema,
        group_by=["status", "client.name"],
        aggregations=[
            O.Aggregation("quote.total", "sum"),
            O.Aggregation("status", "count"),  # count takes anything
            O.Aggregation("status", "max"),
            O.Aggregation("quote.balance", "sum"),
            O.Aggregation("quote.total", "median"),
        ],
    ) == [
        ("groupBy.1", "UNKNOWN_PATH"),
        ("aggregations.2.column", "NOT_A_NUMBER"),
        ("aggregations.3.column", "UNKNOWN_PATH"),
        ("aggregations.4.function", "INVALID"),
    ]


def test_formats_and_variable_defaults(schema: GraphQLSchema) -> None:
    assert found(
        schema,
        columns=[O.Column("reference", format="txt"), O.Column("status"), O.Column("quote.total")],
        variables={"status": ["BOOKED"], "to": "2026-01-01", "from": {"relative": "week_start"}},
    ) == [
        ("variables", "INVALID"),
        ("variables", "INVALID"),
        ("columns.0.format", "INVALID"),
    ]


def test_declared_variables_of_a_saved_operation() -> None:
    assert O.declared_variables(CHARTERS) == {
        "after": "String",
        "status": "[CharterStatus!]",
        "from": "DateTime",
    }
