"""Each portal root and the admin's job history refuse every other caller (issue 9).

One row per new root field: the roles it admits; every other role gets
FORBIDDEN and an anonymous caller UNAUTHENTICATED, before anything is read.
"""

from __future__ import annotations

import pytest

from tests.support.graphql_client import GraphQLClient

ROLES = [
    "admin",
    "manager",
    "sales_agent",
    "sales_support",
    "dispatcher",
    "accounting",
    "client",
    "vendor",
    "driver",
]

#: field -> (server fixture, operation, the roles admitted)
ROOTS = {
    "myCharters": ("charters_server", "{ myCharters(first: 1) { totalCount } }", {"client"}),
    "myTrips": ("charters_server", "{ myTrips { id } }", {"driver"}),
    "myAssignments": (
        "vendors_server",
        "{ myAssignments(first: 1) { totalCount } }",
        {"vendor"},
    ),
    "jobRuns": ("identity_server", "{ jobRuns(first: 1) { totalCount } }", {"admin"}),
}

CASES = [(field, role) for field in ROOTS for role in [*ROLES, None]]


@pytest.mark.parametrize(
    ("field", "role"), CASES, ids=[f"{f}-{r or 'anonymous'}" for f, r in CASES]
)
async def test_a_portal_root_admits_only_its_roles(
    charters_server, vendors_server, identity_server, http_client, mint, field, role
):
    fixture, operation, admitted = ROOTS[field]
    server = {
        "charters_server": charters_server,
        "vendors_server": vendors_server,
        "identity_server": identity_server,
    }[fixture]
    token = await mint(role) if role else None

    answer = await GraphQLClient(server.graphql_url, http_client, token)(operation)

    if role is None:
        assert answer.error_codes == ["UNAUTHENTICATED"]
    elif role in admitted:
        assert "FORBIDDEN" not in answer.error_codes
        assert "UNAUTHENTICATED" not in answer.error_codes
    else:
        assert answer.error_codes == ["FORBIDDEN"], answer.body
