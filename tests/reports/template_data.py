"""A valid template over the charters connection, for the template tests to vary."""

from __future__ import annotations

from typing import Any

CHARTERS = """
query Bookings($after: String, $status: [CharterStatus!], $from: DateTime) {
  charters(first: 100, after: $after, where: {status: $status, pickupFrom: $from}) {
    pageInfo { hasNextPage endCursor }
    edges { node { id reference status quote { total } } }
  }
}
"""


def template_input(**changes: Any) -> dict[str, Any]:
    """The GraphQL input (camelCase) of a valid template; `changes` replace its fields."""
    base: dict[str, Any] = {
        "name": "Bookings by status",
        "operation": CHARTERS,
        "rowsPath": "charters.edges.node",
        "columns": [
            {"path": "reference", "label": "Reference"},
            {"path": "status", "label": "Status"},
            {"path": "quote.total", "label": "Total", "format": "money"},
        ],
        "groupBy": ["status"],
        "aggregations": [
            {"column": "quote.total", "function": "SUM"},
            {"column": "reference", "function": "COUNT"},
        ],
        "variables": {"status": ["BOOKED"], "from": {"relative": "month_start_instant"}},
    }
    return {**base, **changes}
