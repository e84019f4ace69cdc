"""Every notifications mutation and root query, for every role: the expected table is data.

A role not in a row gets a top-level `FORBIDDEN` (anonymous
`UNAUTHENTICATED`); a role in it gets past the gate (whatever the business
rules then say, as `userErrors` or NOT_FOUND). A field added without a row
fails here.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from subgraphs.notifications.app import schema
from tests.support.graphql_client import GraphQLClient
from tests.support.roles import ROLES

STAFF = {"admin", "manager", "sales_agent", "sales_support", "dispatcher", "accounting"}
EVERYONE = set(ROLES)

EXPECTED: dict[str, set[str]] = {
    # Preferences (§1): every account has its own; a company's are its users' and client staff's.
    "myNotificationPreferences": EVERYONE,
    "updateMyNotificationPreferences": EVERYONE,
    "updateClientNotificationPreferences": {
        "admin",
        "manager",
        "sales_agent",
        "sales_support",
        "client",
    },
    # The delivery log: staff.
    "notificationMessages": STAFF,
    # Templates: staff read and preview, admins edit.
    "notificationKinds": STAFF,
    "notificationTemplates": STAFF,
    "notificationTemplate": STAFF,
    "previewNotification": STAFF,
    "publishNotificationTemplate": {"admin"},
    "setNotificationTemplateActive": {"admin"},
}


def operations(client_id: str) -> dict[str, tuple[str, dict[str, Any]]]:
    some = str(uuid.uuid4())
    return {
        "myNotificationPreferences": ("{ myNotificationPreferences { email } }", {}),
        "updateMyNotificationPreferences": (
            "mutation { updateMyNotificationPreferences(input: {marketing: false}) "
            "{ userErrors { code } } }",
            {},
        ),
        "updateClientNotificationPreferences": (
            "mutation($id: ID!) { updateClientNotificationPreferences(clientId: $id, "
            "input: {marketing: false}) { userErrors { code } } }",
            {"id": client_id},
        ),
        "notificationMessages": ("{ notificationMessages { totalCount } }", {}),
        "notificationKinds": ("{ notificationKinds { name } }", {}),
        "notificationTemplates": ("{ notificationTemplates { id } }", {}),
        "notificationTemplate": (
            "query($id: ID!) { notificationTemplate(id: $id) { id } }",
            {"id": some},
        ),
        "previewNotification": (
            'query { previewNotification(kind: "trip_reminder", channel: SMS, locale: "en") '
            "{ version } }",
            {},
        ),
        "publishNotificationTemplate": (
            "mutation($id: ID!) { publishNotificationTemplate(templateId: $id, "
            'input: {text: "x"}) { userErrors { code } } }',
            {"id": some},
        ),
        "setNotificationTemplateActive": (
            "mutation($id: ID!) { setNotificationTemplateActive(templateId: $id, active: true) "
            "{ userErrors { code } } }",
            {"id": some},
        ),
    }


def test_the_table_names_every_mutation_and_query_of_the_schema() -> None:
    graph = schema._schema
    fields = set(graph.mutation_type.fields) | {  # type: ignore[union-attr]
        name for name in graph.query_type.fields if not name.startswith("_")
    }
    assert fields == set(EXPECTED) == set(operations("x"))


@pytest.mark.parametrize("role", [*ROLES, None])
async def test_every_notifications_operation_as_every_role(
    role, notifications_server, http_client, mint
) -> None:
    client_id = uuid.uuid4()
    token = await mint(role, client_id=client_id if role == "client" else None) if role else None
    caller = GraphQLClient(notifications_server.graphql_url, http_client, token)
    for name, (query, variables) in operations(str(client_id)).items():
        answer = await caller(query, variables)
        if role is None:
            assert answer.error_codes == ["UNAUTHENTICATED"], (name, answer.body)
        elif role in EXPECTED[name]:
            assert "FORBIDDEN" not in answer.error_codes, (name, role, answer.body)
            assert "UNAUTHENTICATED" not in answer.error_codes, (name, role, answer.body)
        else:
            assert answer.error_codes == ["FORBIDDEN"], (name, role, answer.body)
