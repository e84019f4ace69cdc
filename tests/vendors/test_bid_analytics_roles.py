"""Vendors' report roots (issue 16), for every role: the expected table is data.

`service.access`: READ_VENDOR_FIGURES (admins, managers, dispatch) for the
cross-vendor figures, READ_PENDING_APPROVALS (admins, managers) for the
approval queue. A role outside a row gets a top-level FORBIDDEN, anonymous
UNAUTHENTICATED; a role in it gets an answer. A report root added to the
schema without a row here fails.
"""

from __future__ import annotations

import pytest

from subgraphs.vendors.app import schema
from subgraphs.vendors.queries_reports import ReportQueries
from tests.support.graphql_client import GraphQLClient
from tests.support.roles import ROLES

FIGURES = {"admin", "manager", "dispatcher"}
EXPECTED: dict[str, tuple[str, set[str]]] = {
    "bidAnalytics": ("{ bidAnalytics { bids vendors { bids } } }", FIGURES),
    "vendorPerformance": ("{ vendorPerformance { ratings } }", FIGURES),
    "pendingApprovals": ("{ pendingApprovals { vendors } }", {"admin", "manager"}),
}


def test_every_report_root_has_a_row():
    fields = ReportQueries.__strawberry_definition__.fields  # type: ignore[attr-defined]
    converter = schema.config.name_converter
    assert {converter.get_graphql_name(f) for f in fields} == set(EXPECTED)


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
async def test_each_report_root_admits_exactly_its_roles(role, vendors_server, http_client, mint):
    token = await mint(role) if role != "anonymous" else None
    client = GraphQLClient(vendors_server.graphql_url, http_client, token)

    wrong = {}
    for name, (query, admitted) in EXPECTED.items():
        answer = await client(query)
        if role in admitted:
            ok = answer.error_codes == [] and answer.data[name] is not None
        else:
            refused = "UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"
            ok = answer.error_codes == [refused] and answer.data is None
        if not ok:
            wrong[name] = answer.error_codes
    assert wrong == {}
